// The projector screen: join details, the case, the live response count, results once revealed
// and teaching points.

import { LiveConnection, readConfig } from "./live.js";
import {
  POLL_STATE_TEXT,
  byTestId,
  changed,
  h,
  plural,
  renderCase,
  renderResults,
  renderTeachingPoints,
  runCountdown,
  setStatusPill,
  show,
} from "./render.js";

const config = readConfig();
const ui = {
  status: byTestId("connection-status"),
  stage: byTestId("stage"),
  side: byTestId("side"),
  welcome: byTestId("welcome"),
  waitingText: byTestId("waiting-text"),
  caseSection: byTestId("case"),
  caseCard: byTestId("case-card"),
  poll: byTestId("poll"),
  pollState: byTestId("poll-state"),
  question: byTestId("poll-question"),
  count: byTestId("response-count"),
  countdown: byTestId("countdown"),
  results: byTestId("results"),
  resultsList: byTestId("results-list"),
  options: byTestId("poll-options"),
  teaching: byTestId("teaching-points"),
  teachingList: byTestId("teaching-list"),
};

let state = null;

const live = new LiveConnection(config, {
  onState(next) {
    state = next;
    render();
  },
  onResults: () => renderPoll(),
  onStatus: (status) => setStatusPill(ui.status, status),
});

function countText(poll, total) {
  const responses = plural(total, "response", "responses");
  if (poll.state === "open") return responses;
  if (poll.state === "closed") return `Voting closed · ${responses}`;
  return "Voting opens soon";
}

function renderPoll() {
  const poll = state ? state.poll : null;
  show(ui.poll, Boolean(poll));
  if (changed(ui.countdown, poll ? [poll.id, poll.state, poll.closes_at] : null)) runCountdown(ui.countdown, poll);
  if (!poll) return;
  ui.poll.dataset.state = poll.state;
  ui.pollState.textContent = POLL_STATE_TEXT[poll.state] || poll.state;
  ui.pollState.dataset.state = poll.state;
  ui.question.textContent = poll.question;

  const { latest, counted } = live.resultsFor(poll.id);
  const revealed = poll.results_visible && counted !== null;
  const total = latest ? latest.total : 0;
  ui.count.textContent = countText(poll, revealed ? counted.total : total);
  show(ui.results, revealed);
  show(ui.options, !revealed);
  if (revealed) {
    renderResults(ui.resultsList, poll, counted);
  } else if (changed(ui.options, poll.options)) {
    const items = poll.options.map((option, index) =>
      h(
        "li",
        { class: "stage-option" },
        h("span", { class: "stage-option-key", "aria-hidden": "true", text: String.fromCharCode(65 + (index % 26)) }),
        h("span", { text: option.label }),
      ),
    );
    ui.options.replaceChildren(h("ol", { class: "stage-option-list", "aria-label": "Answers" }, items));
  }
}

function render() {
  const caseData = state ? state.case : null;
  const points = (state && state.teaching_points) || [];
  const hasContent = Boolean(caseData || (state && state.poll) || points.length);
  ui.stage.dataset.mode = hasContent ? "live" : "welcome";
  document.body.dataset.mode = ui.stage.dataset.mode;
  show(ui.welcome, !hasContent);
  ui.waitingText.textContent =
    state && state.event.status === "ended" ? "This event has ended. Thank you." : "The discussion will start shortly.";

  const hasSide = Boolean((state && state.poll) || points.length);
  ui.stage.dataset.layout = caseData && hasSide ? "both" : caseData ? "case" : "side";
  show(ui.side, hasSide);
  show(ui.caseSection, Boolean(caseData));
  if (caseData && changed(ui.caseCard, caseData)) ui.caseCard.replaceChildren(renderCase(caseData, { level: 2 }));
  renderPoll();
  show(ui.teaching, points.length > 0);
  if (changed(ui.teachingList, points)) renderTeachingPoints(ui.teachingList, points, { level: 3 });
}

live.start();
