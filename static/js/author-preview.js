// The case builder's preview: the phone and the projector as they will look, drawn by the same
// renderers the live screens use (render.js for the case, ballot.js for the phone's ballot of
// each kind, stage.js for the projector's poll) from the payload the live frames carry
// (polls/protocol/payloads.py, embedded by the page). Refreshed by each save (the page reloads),
// and, while a poll is being written, from its form as the author types (after a short pause).

import { buildBallot, kindHint } from "./ballot.js";
import { byTestId, h, renderCase, renderTeachingPoints } from "./render.js";
import { stagePollBody } from "./stage.js";

const payload = JSON.parse(document.getElementById("author-preview").textContent);
const phone = byTestId("preview-phone");
const stage = byTestId("preview-stage");
const choice = byTestId("preview-poll");
const draftNote = byTestId("preview-draft");

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

const CHOICE_KINDS = ["single", "multi", "likert", "ranking"];
const TYPING_PAUSE_MS = 300;
let draft = null; // the poll as its form stands, shown until another poll is chosen

/** The poll a form describes, shaped like poll_payload (unsaved: the server checks it on save). */
function pollFromForm(form) {
  const value = (name) => {
    const field = form.querySelector(`[name$="-${name}"]`);
    if (!field) return "";
    return field.type === "checkbox" ? field.checked : field.value;
  };
  const kind = value("kind");
  const rows = [...form.querySelectorAll("[data-row]")].filter(
    (row) => !(row.querySelector('input[name$="-DELETE"]') || {}).checked,
  );
  let labels = rows.map((row) => (row.querySelector('input[name$="-label"]') || {}).value || "").filter((l) => l.trim());
  const from = Number.parseInt(value("scale_from"), 10);
  const to = Number.parseInt(value("scale_to"), 10);
  if (kind === "likert" && from < to && to - from < 11) {
    labels = Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
  }
  const number = (name) => (value(name) === "" ? null : Number(value(name)));
  const options = CHOICE_KINDS.includes(kind) ? labels.map((label, i) => ({ id: -(i + 1), label: label.trim() })) : [];
  const poll = { id: 0, kind, question: value("question"), options, ask_confidence: Boolean(value("ask_confidence")) };
  if (kind === "multi") poll.max_choices = number("max_choices") || options.length;
  if (kind === "numeric") poll.numeric = { min: number("numeric_min"), max: number("numeric_max"), unit: value("numeric_unit") };
  if (kind === "text") poll.text_max_length = number("text_max_length") || 140;
  return poll;
}

function render() {
  const poll = draft || payload.polls.find((p) => String(p.id) === choice.value) || null;
  draftNote.hidden = !draft;
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

choice.addEventListener("change", () => {
  draft = null;
  render();
});
let typing = null;
for (const form of document.querySelectorAll("[data-poll-form]")) {
  const follow = () => {
    window.clearTimeout(typing);
    typing = window.setTimeout(() => {
      draft = pollFromForm(form);
      render();
    }, TYPING_PAUSE_MS);
  };
  form.addEventListener("input", follow);
  form.addEventListener("change", follow);
  form.addEventListener("click", (event) => {
    if (event.target.closest("[data-move], [data-add-row]")) follow(); // rows moved or added
  });
}
render();
