// The participant's phone: the case, the open poll, a vote receipt, results and teaching points.

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
  pageError: byTestId("page-error"),
  waiting: byTestId("waiting"),
  waitingText: byTestId("waiting-text"),
  poll: byTestId("poll"),
  pollState: byTestId("poll-state"),
  question: byTestId("poll-question"),
  hint: byTestId("poll-hint"),
  countdown: byTestId("countdown"),
  options: byTestId("options"),
  receipt: byTestId("vote-receipt"),
  results: byTestId("results"),
  resultsTotal: byTestId("results-total"),
  resultsList: byTestId("results-list"),
  teaching: byTestId("teaching-points"),
  teachingList: byTestId("teaching-list"),
  caseSection: byTestId("case"),
  caseCard: byTestId("case-card"),
};

let state = null;
let myVote = null; // {poll, options}: the ballot the server has recorded
let voteError = null; // {poll, message}: why the last vote was refused
// Kinds answered by picking one option; other kinds (multi, ranking, numeric, text) need their own inputs.
const ONE_CHOICE_KINDS = new Set(["single", "likert"]);

const live = new LiveConnection(config, {
  onState(next) {
    state = next;
    myVote = next.my_vote || (myVote && next.poll && myVote.poll === next.poll.id ? myVote : null);
    render();
  },
  onResults: () => renderPoll(),
  onAck(ack, vote) {
    if (vote && Array.isArray(ack.options)) {
      myVote = { poll: ack.poll, options: ack.options };
      voteError = null;
    }
    renderPoll();
  },
  onError(error, vote) {
    if (vote) {
      voteError = { poll: vote.poll, message: error.message };
    } else if (error.code === "not_joined") {
      ui.pageError.textContent = "Your session expired. Reload the page to join again.";
      show(ui.pageError, true);
    }
    renderPoll();
  },
  onOutbox: () => renderPoll(),
  onStatus: (status) => setStatusPill(ui.status, status),
});

function currentPoll() {
  return state && state.poll ? state.poll : null;
}

function chosenOptions(poll) {
  const pending = live.pendingVote();
  if (pending && pending.poll === poll.id) return { ids: new Set(pending.options), pending: true };
  if (myVote && myVote.poll === poll.id) return { ids: new Set(myVote.options), pending: false };
  return { ids: new Set(), pending: false };
}

function choose(optionId) {
  const poll = currentPoll();
  if (!poll || poll.state !== "open") return;
  const chosen = chosenOptions(poll);
  if (chosen.ids.size === 1 && chosen.ids.has(optionId)) return; // already this answer
  voteError = null;
  live.vote(poll.id, [optionId]);
}

function optionButton(option) {
  return h(
    "button",
    {
      type: "button",
      class: "option",
      "data-testid": "option",
      "data-option-id": option.id,
      "aria-pressed": "false",
      onclick: () => choose(option.id),
    },
    h("span", { class: "option-mark", "aria-hidden": "true" }),
    h("span", { class: "option-label", text: option.label }),
  );
}

function renderOptions(poll, chosen) {
  if (changed(ui.options, { poll: poll.id, options: poll.options })) {
    ui.options.replaceChildren(...poll.options.map(optionButton));
  }
  const open = poll.state === "open";
  ui.options.querySelectorAll("button.option").forEach((button) => {
    const selected = chosen.ids.has(Number(button.dataset.optionId));
    button.setAttribute("aria-pressed", selected ? "true" : "false");
    button.classList.toggle("is-selected", selected);
    button.classList.toggle("is-pending", selected && chosen.pending);
    button.disabled = !open;
  });
}

function renderReceipt(poll, chosen) {
  let text = "";
  let kind = "none";
  if (chosen.pending) {
    text = "Saving…";
    kind = "saving";
  } else if (voteError && voteError.poll === poll.id) {
    text = voteError.message;
    kind = "error";
  } else if (myVote && myVote.poll === poll.id) {
    text = "Vote recorded";
    kind = "recorded";
  }
  ui.receipt.dataset.state = kind;
  if (ui.receipt.textContent !== text) ui.receipt.textContent = text;
}

function renderPoll() {
  const poll = currentPoll();
  show(ui.poll, Boolean(poll));
  if (!poll) {
    runCountdown(ui.countdown, null);
    return;
  }
  const chosen = chosenOptions(poll);
  ui.poll.dataset.pollId = String(poll.id);
  ui.poll.dataset.state = poll.state;
  ui.pollState.textContent = POLL_STATE_TEXT[poll.state] || poll.state;
  ui.pollState.dataset.state = poll.state;
  ui.question.textContent = poll.question;
  const answerable = ONE_CHOICE_KINDS.has(poll.kind);
  ui.hint.textContent = answerable
    ? {
        open: "Choose one answer. You can change it until the poll closes.",
        closed: "Voting has closed.",
        draft: "Voting opens soon.",
      }[poll.state]
    : "This kind of question cannot be answered on this page yet.";
  if (changed(ui.countdown, [poll.id, poll.state, poll.closes_at])) runCountdown(ui.countdown, poll);
  renderOptions(poll, chosen);
  renderReceipt(poll, chosen);

  const { counted } = live.resultsFor(poll.id);
  const revealed = poll.results_visible && counted !== null;
  show(ui.results, revealed);
  // Once the poll is closed and the results are out, the results replace the answer buttons.
  show(ui.options, answerable && !(revealed && poll.state === "closed"));
  if (revealed) {
    const mine = myVote && myVote.poll === poll.id ? new Set(myVote.options) : new Set();
    ui.resultsTotal.textContent = plural(counted.total, "response", "responses");
    renderResults(ui.resultsList, poll, counted, { mine });
  }
}

function renderWaiting() {
  const ended = state && state.event.status === "ended";
  const empty = !state || (!state.case && !state.poll && !(state.teaching_points || []).length);
  show(ui.waiting, ended || empty);
  ui.waiting.dataset.state = ended ? "ended" : "waiting";
  ui.waitingText.textContent = ended
    ? "This event has ended. Thank you for taking part."
    : "Waiting for the moderator…";
}

function render() {
  renderWaiting();
  renderPoll();
  const points = (state && state.teaching_points) || [];
  show(ui.teaching, points.length > 0);
  if (changed(ui.teachingList, points)) renderTeachingPoints(ui.teachingList, points, { level: 3 });
  const caseData = state ? state.case : null;
  show(ui.caseSection, Boolean(caseData));
  if (caseData && changed(ui.caseCard, caseData)) ui.caseCard.replaceChildren(renderCase(caseData, { level: 3 }));
}

live.start();
