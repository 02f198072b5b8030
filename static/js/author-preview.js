// The case builder's preview: the phone and the projector as they will look, drawn by the same
// renderers the live screens use (render.js for the case, ballot.js for the phone's ballot of
// each kind, stage.js for the projector's poll) from the payload the live frames carry
// (polls/protocol/payloads.py, embedded by the page). Refreshed by each save (the page reloads).

import { buildBallot, kindHint } from "./ballot.js";
import { byTestId, h, renderCase, renderTeachingPoints } from "./render.js";
import { stagePollBody } from "./stage.js";

const payload = JSON.parse(document.getElementById("author-preview").textContent);
const phone = byTestId("preview-phone");
const stage = byTestId("preview-stage");
const choice = byTestId("preview-poll");

function phonePoll(poll) {
  // As the phone shows an open poll; answers here go nowhere (no handlers send anything).
  const widget = buildBallot({ ...poll, state: "open" }, { submit() {}, edited() {}, refused() {} });
  const body = h(
    "section",
    { class: "panel poll-panel", "data-testid": "preview-ballot" },
    // The ballot's group is labelled by #poll-question, as on the phone.
    h("div", { class: "poll-head" }, h("h3", { id: "poll-question", class: "poll-question", text: poll.question })),
    h("p", { class: "poll-hint", text: kindHint(poll) }),
  );
  if (widget) {
    widget.setEnabled(true);
    body.append(h("div", { class: "ballot-area" }, widget.root));
  }
  return body;
}

function render() {
  const poll = payload.polls.find((p) => String(p.id) === choice.value) || null;
  const card = renderCase(payload.case, { level: 3, imagePath: payload.image_path });
  const points = h("div", { class: "teaching-list" });
  if (payload.teaching_points.length) renderTeachingPoints(points, payload.teaching_points, { level: 4 });
  phone.replaceChildren(poll ? phonePoll(poll) : "", card, payload.teaching_points.length ? points : "");
  stage.replaceChildren(
    poll
      ? h(
          "div",
          { class: "stage-poll", "data-testid": "preview-stage-poll" },
          h("p", { class: "stage-question", text: poll.question }),
          ...stagePollBody(poll),
        )
      : renderCase(payload.case, { level: 3, imagePath: payload.image_path }),
  );
}

choice.addEventListener("change", render);
render();
