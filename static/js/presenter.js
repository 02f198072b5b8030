// The projector screen: join details, the case (with facts revealed as the discussion goes),
// the live response count and countdown, results of every kind once revealed, rounds and
// transitions, panel versus audience, the profile split the moderator chose, teaching points.

import { renderComparisons, renderSegments } from "./comparisons.js";
import { attachQuestions } from "./questions.js";
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
  syncClock,
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
  textToggle: byTestId("text-view-toggle"),
  comparisons: byTestId("comparisons"),
  segments: byTestId("segments"),
  options: byTestId("poll-options"),
  teaching: byTestId("teaching-points"),
  teachingList: byTestId("teaching-list"),
};

let state = null;
let textView = "list";
const seenFacts = new Map(); // case id -> fact ids already on screen

const live = new LiveConnection(config, {
  onState(next) {
    syncClock(next);
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

function questionHint(poll) {
  if (poll.kind === "numeric") {
    const range = poll.numeric || {};
    const unit = range.unit ? ` ${range.unit}` : "";
    if (range.min !== null && range.min !== undefined && range.max !== null && range.max !== undefined) {
      return `Answer with a number from ${range.min} to ${range.max}${unit} on your phone.`;
    }
    return `Answer with a number${unit} on your phone.`;
  }
  if (poll.kind === "text")
    return "Answer in a few words on your phone. The moderator chooses which answers appear here.";
  if (poll.kind === "ranking") return "Put these in order on your phone, best first.";
  if (poll.kind === "multi") return `Choose up to ${poll.max_choices || poll.options.length} on your phone.`;
  return "";
}

function renderOptions(poll) {
  if (!changed(ui.options, [poll.id, poll.kind, poll.options, poll.numeric, poll.max_choices])) return;
  const hint = questionHint(poll);
  const items = poll.options.map((option, index) =>
    h(
      "li",
      { class: "stage-option" },
      h("span", { class: "stage-option-key", "aria-hidden": "true", text: String.fromCharCode(65 + (index % 26)) }),
      h("span", { text: option.label }),
    ),
  );
  ui.options.replaceChildren(
    hint ? h("p", { class: "stage-hint", "data-testid": "stage-hint", text: hint }) : "",
    items.length
      ? h(poll.kind === "ranking" ? "ul" : "ol", { class: "stage-option-list", "aria-label": "Answers" }, items)
      : "",
  );
}

function segmentLabel(key) {
  const question = ((state && state.event.profile_questions) || []).find((q) => q.key === key);
  return question ? question.label : key;
}

function renderPoll() {
  const poll = state ? state.poll : null;
  show(ui.poll, Boolean(poll));
  if (changed(ui.countdown, poll ? [poll.id, poll.state, poll.closes_at] : null)) runCountdown(ui.countdown, poll);
  if (!poll) {
    ui.stage.dataset.focus = "";
    return;
  }
  ui.poll.dataset.state = poll.state;
  ui.poll.dataset.kind = poll.kind;
  ui.pollState.textContent = POLL_STATE_TEXT[poll.state] || poll.state;
  ui.pollState.dataset.state = poll.state;
  ui.question.textContent = poll.round > 1 ? `${poll.question} (round ${poll.round})` : poll.question;

  // `counted` is the newest frame that carries the tally (counts, numbers or answers), or null.
  const { latest, counted: shown } = live.resultsFor(poll.id);
  const revealed = Boolean(poll.results_visible && shown);
  ui.count.textContent = countText(poll, revealed ? shown.total : latest ? latest.total : 0);
  show(ui.results, revealed);
  show(ui.options, !revealed);
  show(ui.textToggle, revealed && poll.kind === "text");
  let compared = false;
  let split = false;
  if (revealed) {
    // With rounds or a panel, the comparison table holds this round's shares too: no second set
    // of bars, and the table comes first (the scale summary and the rationale follow it).
    const table = (Array.isArray(shown.rounds) && shown.rounds.length > 1) || Boolean(shown.panel);
    show(ui.resultsList, !table);
    const tableFirst = Boolean(ui.comparisons.compareDocumentPosition(ui.results) & Node.DOCUMENT_POSITION_FOLLOWING);
    if (table && !tableFirst) ui.comparisons.after(ui.results);
    if (!table && tableFirst) ui.comparisons.before(ui.results);
    renderResults(ui.resultsList, poll, shown, { textView });
    compared = renderComparisons(ui.comparisons, poll, shown, { level: 3 });
    const attribute = state.event.segment;
    const entries = attribute && shown.segments ? shown.segments[attribute] : null;
    split = Boolean(entries);
    renderSegments(ui.segments, poll, entries, { label: attribute ? segmentLabel(attribute) : "", level: 3 });
  } else {
    renderOptions(poll);
  }
  show(ui.comparisons, compared);
  show(ui.segments, split);
  ui.stage.dataset.focus = compared || split ? "results" : "";
}

function markNewFacts(caseData) {
  const seen = seenFacts.get(caseData.id);
  const ids = (caseData.facts || []).map((f) => String(f.id));
  if (seen) {
    for (const node of ui.caseCard.querySelectorAll("[data-fact-id]")) {
      if (seen.has(node.dataset.factId)) continue;
      node.classList.add("is-new");
      node.scrollIntoView({ block: "nearest" });
    }
  }
  seenFacts.set(caseData.id, new Set([...(seen || []), ...ids]));
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
  if (caseData && changed(ui.caseCard, caseData)) {
    ui.caseCard.replaceChildren(renderCase(caseData, { level: 2 }));
    markNewFacts(caseData);
  }
  renderPoll();
  show(ui.teaching, points.length > 0);
  if (changed(ui.teachingList, points)) renderTeachingPoints(ui.teachingList, points, { level: 3 });
}

for (const button of ui.textToggle.querySelectorAll("button[data-view]")) {
  button.addEventListener("click", () => {
    textView = button.dataset.view;
    for (const other of ui.textToggle.querySelectorAll("button[data-view]")) {
      other.setAttribute("aria-pressed", String(other === button));
    }
    renderPoll();
  });
}

attachQuestions(live, config);
live.start();
