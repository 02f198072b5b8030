// The participant's phone (and the faculty panel view): the case, the open poll with the voting
// controls of its kind (ballot.js), a vote receipt, results, the preferred answer, teaching points
// and the optional profile questions (profile.js).

import { ballotKey, buildBallot, kindHint, voteErrorText } from "./ballot.js";
import { formatNumber, gettext, interpolate, ngettext } from "./i18n.js";
import { attachQuestions } from "./questions.js";
import { LiveConnection, ballotFields, readConfig } from "./live.js";
import { ProfileForm } from "./profile.js";
import {
  POLL_STATE_TEXT,
  byTestId,
  caseLanguage,
  changed,
  plural,
  renderCase,
  renderResults,
  renderTeachingPoints,
  runCountdown,
  serverNow,
  setStatusPill,
  show,
  syncClock,
} from "./render.js";

const config = readConfig();
const isPanel = config.role === "panelist";
const ui = {
  status: byTestId("connection-status"),
  pageError: byTestId("page-error"),
  waiting: byTestId("waiting"),
  waitingText: byTestId("waiting-text"),
  poll: byTestId("poll"),
  pollState: byTestId("poll-state"),
  round: byTestId("poll-round"),
  question: byTestId("poll-question"),
  hint: byTestId("poll-hint"),
  countdown: byTestId("countdown"),
  ballotArea: byTestId("ballot-area"),
  receipt: byTestId("vote-receipt"),
  liveTotal: byTestId("live-total"),
  preferred: byTestId("preferred"),
  preferredAnswer: byTestId("preferred-answer"),
  preferredRationale: byTestId("preferred-rationale"),
  results: byTestId("results"),
  resultsTotal: byTestId("results-total"),
  resultsList: byTestId("results-list"),
  profile: byTestId("profile"),
  teaching: byTestId("teaching-points"),
  teachingList: byTestId("teaching-list"),
  caseSection: byTestId("case"),
  caseCard: byTestId("case-card"),
};

let state = null;
let myVote = null; // {poll, options, value, text, confidence}: the ballot the server has recorded
let voteError = null; // {poll, message}: why the last vote was refused
let widget = null; // the voting controls of the current poll
let closeTimer = null;
let unsent = null; // the poll whose answer was changed on this phone and not sent yet

const live = new LiveConnection(config, {
  onState(next) {
    syncClock(next); // countdowns follow the server's clock, not the phone's
    state = next;
    const recorded = next.my_vote ? { ...next.my_vote, resets: (next.poll && next.poll.resets) || 0 } : null;
    myVote = recorded || (keepsVote(myVote, next.poll) ? myVote : null);
    render();
  },
  onResults: () => renderPoll(),
  onAck(ack, vote) {
    if (profile && profile.handleAck(ack)) return;
    const pending = live.pendingVote();
    // The answer to our queued vote, or to an earlier vote of a poll with nothing newer pending.
    if (Array.isArray(ack.options) && (vote || !pending || pending.poll !== ack.poll)) {
      myVote = { poll: ack.poll, ...ballotFields(ack), resets: resetsOf(ack.poll) };
      if (vote) voteError = null;
    }
    renderPoll();
  },
  onError(error, vote) {
    if (profile && profile.handleError(error)) return;
    if (vote) {
      voteError = { poll: vote.poll, message: voteErrorText(error) };
    } else if (error.code === "not_joined") {
      ui.pageError.textContent = gettext("Your session expired. Reload the page to join again.");
      show(ui.pageError, true);
    }
    renderPoll();
  },
  onOutbox: () => renderPoll(),
  onStatus(status) {
    setStatusPill(ui.status, status);
    if (status !== "live" && profile) profile.connectionLost();
  },
});

// The panel view asks no profile questions (there is no section for them).
const profile = ui.profile ? new ProfileForm(ui.profile, { code: config.code, send: (f) => live.send(f) }) : null;

function resetsOf(pollId) {
  return state && state.poll && state.poll.id === pollId ? state.poll.resets || 0 : 0;
}

/** A ballot this phone recorded stays until the state says so, unless the moderator reset the poll since. */
function keepsVote(vote, poll) {
  return Boolean(vote && poll && vote.poll === poll.id && (poll.resets || 0) <= (vote.resets || 0));
}

function currentPoll() {
  return state && state.poll ? state.poll : null;
}

function pendingFor(poll) {
  const entry = live.pendingVote();
  return entry && entry.poll === poll.id ? ballotFields(entry) : null;
}

function recordedFor(poll) {
  return myVote && myVote.poll === poll.id ? ballotFields(myVote) : null;
}

function submit(ballot) {
  const poll = currentPoll();
  if (!poll || !votingOpen(poll)) return;
  voteError = null;
  unsent = null;
  live.vote(poll.id, ballot);
}

function edited() {
  const poll = currentPoll();
  if (voteError && poll && voteError.poll === poll.id) voteError = null;
  if (widget) widget.setServerError("");
  unsent = poll ? poll.id : null;
  renderReceipt(poll);
}

/** Open and not past its countdown (the server closes it at zero; controls stop a moment earlier). */
function votingOpen(poll) {
  return poll.state === "open" && !(poll.closes_at && serverNow() >= poll.closes_at);
}

function scheduleCloseCheck(poll) {
  clearTimeout(closeTimer);
  closeTimer = null;
  if (poll && poll.state === "open" && poll.closes_at) {
    const wait = poll.closes_at - serverNow();
    if (wait > 0) closeTimer = setTimeout(renderPoll, Math.min(wait + 50, 2 ** 31 - 1));
  }
}

function hintText(poll) {
  if (poll.state === "draft") return gettext("Voting opens soon.");
  if (poll.state === "closed") return gettext("Voting has closed.");
  if (!votingOpen(poll)) return gettext("Time is up: voting is closing.");
  return kindHint(poll);
}

function renderReceipt(poll) {
  let text = "";
  let kind = "none";
  if (poll && pendingFor(poll)) {
    text = gettext("Saving…");
    kind = "saving";
  } else if (poll && voteError && voteError.poll === poll.id) {
    text = recordedFor(poll) ? gettext("Not recorded. Your earlier answer still counts.") : gettext("Not recorded.");
    kind = "error";
  } else if (poll && unsent === poll.id && poll.state !== "draft" && !(widget && widget.clientError)) {
    // (A refused entry has its own message beside the field.)
    // A changed answer is not a vote until it is sent: say so, and say it again if voting closes.
    const earlier = recordedFor(poll);
    if (votingOpen(poll)) {
      text = earlier
        ? gettext("Changed, not sent yet: tap “Send answer” or your earlier answer stays.")
        : gettext("Not sent yet: tap “Send answer” before voting closes.");
      kind = "unsent";
    } else {
      text = earlier
        ? gettext("Voting closed before your change was sent: your earlier answer counts.")
        : gettext("Voting closed before your answer was sent: it was not counted.");
      kind = "error";
    }
  } else if (poll && recordedFor(poll)) {
    text = gettext("Vote recorded");
    kind = "recorded";
  }
  ui.receipt.dataset.state = kind;
  if (ui.receipt.textContent !== text) ui.receipt.textContent = text;
  renderLiveTotal(poll);
}

/** While a poll is open, how many have answered so far (counts stay hidden until the reveal). */
function renderLiveTotal(poll) {
  const latest = poll ? live.resultsFor(poll.id).latest : null;
  const visible = Boolean(poll && latest && poll.state === "open" && typeof latest.total === "number");
  show(ui.liveTotal, visible);
  const text = visible
    ? plural(latest.total, ngettext("%s response so far", "%s responses so far", latest.total))
    : "";
  if (ui.liveTotal.textContent !== text) ui.liveTotal.textContent = text;
}

function renderBallot(poll) {
  if (changed(ui.ballotArea, ballotKey(poll))) {
    widget = buildBallot(poll, { submit, edited, refused: () => renderReceipt(currentPoll()) });
    ui.ballotArea.replaceChildren(...(widget ? [widget.root] : []));
  }
  if (!widget) return;
  const pending = pendingFor(poll);
  widget.setEnabled(votingOpen(poll));
  widget.showBallot(pending || recordedFor(poll), { pending: Boolean(pending) });
  widget.setServerError(voteError && voteError.poll === poll.id ? voteError.message : "");
  widget.setPreferred(new Set(poll.preferred ? poll.preferred.options : []));
}

function renderPreferred(poll) {
  const preferred = poll && poll.preferred && poll.preferred.revealed !== false ? poll.preferred : null;
  show(ui.preferred, Boolean(preferred));
  if (!preferred) return;
  const ids = new Set(preferred.options);
  const labels = poll.options.filter((o) => ids.has(o.id)).map((o) => o.label);
  ui.preferredAnswer.textContent = labels.join("; ");
  show(ui.preferredAnswer, labels.length > 0);
  ui.preferredRationale.textContent = preferred.rationale || "";
  show(ui.preferredRationale, Boolean(preferred.rationale));
}

/** The options to mark "Your vote" in the results: a ranking lists every option, so none there. */
function mineInResults(poll) {
  const mine = recordedFor(poll);
  if (!mine || !mine.options || poll.kind === "ranking") return new Set();
  return new Set(mine.options);
}

function renderPoll() {
  const poll = currentPoll();
  show(ui.poll, Boolean(poll));
  scheduleCloseCheck(poll);
  if (changed(ui.countdown, poll ? [poll.id, poll.state, poll.closes_at] : null)) runCountdown(ui.countdown, poll);
  if (!poll) {
    widget = null;
    changed(ui.ballotArea, null);
    ui.ballotArea.replaceChildren();
    return;
  }
  ui.poll.dataset.pollId = String(poll.id);
  ui.poll.dataset.state = poll.state;
  ui.poll.dataset.kind = poll.kind;
  ui.pollState.textContent = POLL_STATE_TEXT[poll.state] || poll.state;
  ui.pollState.dataset.state = poll.state;
  show(ui.round, poll.round > 1);
  ui.round.textContent = poll.round > 1 ? interpolate(gettext("Round %s"), [formatNumber(poll.round)]) : "";
  if (ui.question.textContent !== poll.question) ui.question.textContent = poll.question;
  setLang(ui.question, caseLanguage(state, poll.case));
  const hint = hintText(poll);
  if (ui.hint.textContent !== hint) ui.hint.textContent = hint;
  renderBallot(poll);
  renderReceipt(poll);
  renderPreferred(poll);

  const { counted } = live.resultsFor(poll.id);
  const revealed = poll.results_visible && counted !== null;
  show(ui.results, revealed);
  // Once the poll is closed and the results are out, the results replace the voting controls
  // (unless they carry a refusal the person has not seen yet).
  const refused = Boolean(voteError && voteError.poll === poll.id);
  show(ui.ballotArea, Boolean(widget) && (refused || !(revealed && poll.state === "closed")));
  if (revealed) {
    ui.resultsTotal.textContent = plural(counted.total, ngettext("%s response", "%s responses", counted.total));
    // The phone shows the preferred answer's rationale in its own panel.
    renderResults(ui.resultsList, poll, counted, { mine: mineInResults(poll), rationale: false });
  }
}

/** Mark a node's text as the case author's language, or let it inherit the page's. */
function setLang(node, lang) {
  if (lang) node.setAttribute("lang", lang);
  else node.removeAttribute("lang");
}

function renderWaiting() {
  const ended = state && state.event.status === "ended";
  const empty = !state || (!state.case && !state.poll && !(state.teaching_points || []).length);
  show(ui.waiting, ended || empty);
  ui.waiting.dataset.state = ended ? "ended" : "waiting";
  ui.waitingText.textContent = ended
    ? gettext("This event has ended. Thank you for taking part.")
    : gettext("Waiting for the moderator…");
}

function render() {
  renderWaiting();
  renderPoll();
  if (profile && !isPanel) {
    const asked = state && state.event.status !== "ended" ? state.event.profile_questions : [];
    profile.update(asked, state ? state.my_profile : undefined);
  }
  const points = (state && state.teaching_points) || [];
  show(ui.teaching, points.length > 0);
  if (changed(ui.teachingList, [points, state && state.case && state.case.language])) {
    renderTeachingPoints(ui.teachingList, points, { level: 3, languageOf: (id) => caseLanguage(state, id) });
  }
  const caseData = state ? state.case : null;
  show(ui.caseSection, Boolean(caseData));
  if (caseData && changed(ui.caseCard, caseData)) ui.caseCard.replaceChildren(renderCase(caseData, { level: 3, imagePath: `/e/${config.code}/images/` }));
}

attachQuestions(live, config);
live.start();
