// The moderator console: event status, the agenda with its commands, the poll on screen with
// its live results, comparisons, free-text queue and profile split.

import { agendaShape, createAgenda } from "./console-agenda.js";
import { findingList } from "./console-findings.js";
import { createNowPanel } from "./console-now.js";
import { createQuickPoll } from "./console-quickpoll.js";
import { createStageControls } from "./console-stage.js";
import { watchPresence } from "./presence.js";
import { attachQuestions } from "./questions.js";
import { LiveConnection, newRef, readConfig } from "./live.js";
import { formatNumber, gettext, interpolate, ngettext } from "./i18n.js";
import { byTestId, changed, h, setStatusPill, show, syncClock } from "./render.js";

const config = readConfig();
const ui = {
  status: byTestId("connection-status"),
  eventStatus: byTestId("event-status"),
  start: byTestId("start-event"),
  end: byTestId("end-event"),
  errors: byTestId("console-errors"),
  notice: byTestId("console-notice"),
  agenda: byTestId("agenda"),
  agendaEmpty: byTestId("agenda-empty"),
  nowCase: byTestId("now-case"),
  nowPoll: byTestId("now-poll"),
  nowQuestion: byTestId("now-poll-question"),
  nowMeta: byTestId("now-poll-meta"),
  total: byTestId("results-total"),
  results: byTestId("results-list"),
  comparisons: byTestId("now-comparisons"),
  queuePanel: byTestId("answer-queue-panel"),
  queue: byTestId("answer-queue"),
  queueEmpty: byTestId("answer-queue-empty"),
  pendingCount: byTestId("pending-count"),
  approveWaiting: byTestId("approve-waiting"),
  segmentsPanel: byTestId("segments-panel"),
  segmentSelect: byTestId("segment-select"),
  segments: byTestId("console-segments"),
  segmentsHint: byTestId("segments-hint"),
  presenterSegment: byTestId("presenter-segment-select"),
  presenterSegmentNote: byTestId("presenter-segment-note"),
  nowScreen: byTestId("now-screen"),
  nowPage: byTestId("now-page"),
  screenControls: byTestId("screen-controls"),
  screenButtons: [...byTestId("screen-controls").querySelectorAll("button[data-screen]")],
  stageNext: byTestId("stage-next"),
  stageBack: byTestId("stage-back"),
  themeSelect: byTestId("theme-select"),
  textViewButtons: [...byTestId("console-text-view").querySelectorAll("button[data-view]")],
  resetDialog: byTestId("reset-dialog"),
  resetText: byTestId("reset-text"),
};

const EVENT_STATUS_TEXT = {
  draft: gettext("Event not started"),
  live: gettext("Event live"),
  ended: gettext("Event ended"),
};
const COMMAND_TEXT = {
  open_poll: gettext("Could not open the poll"),
  close_poll: gettext("Could not close the poll"),
  reveal_results: gettext("Could not reveal the results"),
  hide_results: gettext("Could not hide the results"),
  reveal_preferred: gettext("Could not reveal the preferred answer"),
  hide_preferred: gettext("Could not hide the preferred answer"),
  reset_poll: gettext("Could not reset the votes"),
  duplicate_poll: gettext("Could not duplicate the poll"),
  add_poll: gettext("Could not add the poll"),
  new_round: gettext("Could not add a new round"),
  approve_answer: gettext("Could not approve the answer"),
  reject_answer: gettext("Could not reject the answer"),
  approve_waiting_answers: gettext("Could not approve the waiting answers"),
  reveal_fact: gettext("Could not reveal the case fact"),
  hide_fact: gettext("Could not hide the case fact"),
  show_segments: gettext("Could not change the presenter's split"),
  show_case: gettext("Could not show the case"),
  reveal_teaching_point: gettext("Could not reveal the teaching point"),
  hide_teaching_point: gettext("Could not hide the teaching point"),
  show_screen: gettext("Could not change what is on screen"),
  step: gettext("Could not move the screen"),
  set_theme: gettext("Could not change the projector's theme"),
  set_text_view: gettext("Could not change how the projector shows the answers"),
  start_event: gettext("Could not start the event"),
  end_event: gettext("Could not end the event"),
};

let state = null;
const pending = new Map(); // ref -> {type, button}
let refocus = null;

function isBusy(control) {
  return Boolean(control) && control.getAttribute("aria-busy") === "true";
}

/** A control disabled while its command ran loses focus: give it back, or to its nearest usable neighbour. */
function keepFocus(control) {
  // A rebuilt agenda (a poll added) replaced the node: find its successor by test id.
  const button = control && !control.isConnected && control.dataset.testid ? byTestId(control.dataset.testid) : control;
  const active = document.activeElement;
  if (!button || !button.isConnected || (active && active !== document.body && active !== button)) return;
  const group = button.closest(".actions, .agenda-point, .agenda-case-head, .event-controls, .field-row");
  const usable = (b) => !b.disabled && !b.hidden;
  const target = usable(button) ? button : group && [...group.querySelectorAll("button, select")].find(usable);
  if (target && target !== active) target.focus({ preventScroll: true });
}

const live = new LiveConnection(config, {
  onState(next) {
    syncClock(next);
    state = next;
    render();
    presence.refresh();
    keepFocus(refocus);
    refocus = null;
  },
  onResults: () => {
    renderLive();
    presence.render();
  },
  onAck(ack) {
    const command = settle(ack.ref);
    if (command) announce(command.type, ack);
  },
  onError(error) {
    const command = settle(error.ref);
    const what = command
      ? COMMAND_TEXT[command.type] || interpolate(gettext("Could not %s"), [command.type])
      : "";
    const text = what ? interpolate(gettext("%(what)s: %(message)s"), { what, message: error.message }, true) : error.message;
    report(text, findingList(error, config.author_case_url));
  },
  onStatus(status) {
    setStatusPill(ui.status, status);
    if (status !== "live" && pending.size > 0) {
      // The answers to these commands died with the connection: free the buttons, say so.
      for (const ref of [...pending.keys()]) settle(ref);
      report(gettext("The connection dropped before the server answered. Check the agenda once it is Live again."));
    }
  },
});

function report(message, more = null) {
  ui.notice.replaceChildren();
  ui.errors.replaceChildren(
    h(
      "p",
      { class: "console-error", "data-testid": "console-error" },
      h("span", { text: message }),
      h(
        "button",
        { type: "button", class: "button button-quiet", onclick: () => ui.errors.replaceChildren() },
        gettext("Dismiss"),
      ),
    ),
    ...(more ? [more] : []),
  );
}

/** Say what a command that adds something did (the new poll appears further down the agenda). */
function announce(type, ack) {
  const text = {
    duplicate_poll: gettext("A draft copy of the poll was added to the agenda."),
    new_round: interpolate(gettext("Round %s was added to the agenda as a draft: open it when the room is ready."), [
      formatNumber(ack.round),
    ]),
    reset_poll: gettext("The poll's votes were deleted."),
    add_poll: gettext(
      "The quick poll was added to the agenda as a draft, after its case's polls: open it when the room is ready.",
    ),
  }[type];
  if (type === "add_poll") quickPoll.added();
  ui.notice.replaceChildren(text ? h("p", { class: "console-notice", text }) : "");
}

function settle(ref) {
  const command = ref ? pending.get(ref) : null;
  if (!command) return null;
  pending.delete(ref);
  if (command.button) command.button.removeAttribute("aria-busy");
  render();
  keepFocus(command.button);
  refocus = command.button; // the state that follows may disable it after all
  return command;
}

function send(type, fields, button) {
  const ref = newRef();
  if (!live.send({ type, ref, ...fields })) {
    report(gettext("Not connected, so nothing was sent. Try again when the status shows “Live”."));
    return;
  }
  ui.errors.replaceChildren();
  ui.notice.replaceChildren();
  pending.set(ref, { type, button });
  if (button) {
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
  }
}

// ------------------------------------------------------------- reset votes

let resetTarget = null;

function askReset(poll, button) {
  const latest = resultsOf(poll.id);
  const votes = latest ? latest.total : 0;
  resetTarget = { poll, button };
  const which =
    poll.round > 1
      ? interpolate(gettext("“%(question)s” (round %(round)s)"), { question: poll.question, round: formatNumber(poll.round) }, true)
      : interpolate(gettext("“%s”"), [poll.question]);
  ui.resetText.textContent = interpolate(
    ngettext(
      "Delete every vote on %(which)s? %(votes)s response will be removed for good and its results hidden again. The reset is recorded in the audit log.",
      "Delete every vote on %(which)s? %(votes)s responses will be removed for good and its results hidden again. The reset is recorded in the audit log.",
      votes,
    ),
    { which, votes: formatNumber(votes) },
    true,
  );
  ui.resetDialog.returnValue = "";
  ui.resetDialog.showModal();
}

ui.resetDialog.addEventListener("close", () => {
  const target = resetTarget;
  resetTarget = null;
  if (!target) return;
  if (ui.resetDialog.returnValue === "confirm" && target.button.isConnected) {
    send("reset_poll", { poll: target.poll.id, confirm: true }, target.button);
  }
  if (target.button.isConnected) target.button.focus({ preventScroll: true });
});

// ----------------------------------------------------------------- render

const agenda = createAgenda(ui.agenda, { send, askReset });
const now = createNowPanel(ui, { send, isBusy, rerender: () => renderLive() });
const stage = createStageControls(ui, { send, isBusy });
const presence = watchPresence(byTestId("presence"), {
  code: config.code,
  liveTotal: (pollId) => {
    const { latest } = live.resultsFor(pollId);
    return latest ? latest.total : null;
  },
});

// Polls that are not on screen get no results frame until a vote arrives: read them once.
const fetched = new Map(); // poll id -> results.json, superseded by any live frame
const fetching = new Set();

function resultsOf(pollId) {
  return live.resultsFor(pollId).latest || fetched.get(pollId) || null;
}

function fetchMissing() {
  for (const item of state.agenda || []) {
    for (const poll of item.polls) {
      const known = live.resultsFor(poll.id).latest || fetched.has(poll.id) || fetching.has(poll.id);
      if (poll.state === "draft" || known) continue;
      fetching.add(poll.id);
      fetch(`/e/${encodeURIComponent(config.code)}/polls/${poll.id}/results.json`, {
        credentials: "same-origin",
        cache: "no-store",
      })
        .then((response) => (response.ok ? response.json() : null))
        .then((data) => {
          if (data) fetched.set(poll.id, data);
          renderLive();
        })
        .catch(() => {}) // offline: the live frames fill in later
        .finally(() => fetching.delete(poll.id));
    }
  }
}

function currentPoll() {
  if (!state || !state.poll) return null;
  for (const item of state.agenda || []) {
    const match = item.polls.find((p) => p.id === state.poll.id);
    if (match) return match;
  }
  return state.poll;
}

function renderLive() {
  if (!state) return;
  agenda.renderCounts(state, resultsOf);
  const poll = currentPoll();
  now.render(state, poll, poll ? resultsOf(poll.id) : null);
}

function render() {
  if (!state) return;
  const status = state.event.status;
  ui.eventStatus.textContent = EVENT_STATUS_TEXT[status] || status;
  ui.eventStatus.dataset.state = status;
  ui.start.textContent = status === "ended" ? gettext("Resume event") : gettext("Start event");
  if (!isBusy(ui.start)) ui.start.disabled = status === "live";
  if (!isBusy(ui.end)) ui.end.disabled = status !== "live";

  const items = state.agenda || [];
  show(ui.agendaEmpty, items.length === 0);
  ui.agendaEmpty.textContent = gettext("No cases on this event's agenda yet.");
  if (changed(ui.agenda, agendaShape(items))) agenda.build(items);
  agenda.update(state);
  ui.nowCase.textContent = state.case ? interpolate(gettext("Case: %s"), [state.case.title]) : gettext("No case on screen.");
  stage.render(state);
  quickPoll.render(state);
  renderLive();
  fetchMissing();
}

ui.start.addEventListener("click", () => send("start_event", {}, ui.start));
ui.end.addEventListener("click", () => {
  // Ending closes every open poll and turns new participants away: ask first.
  if (window.confirm(gettext("End the event for everyone? Open polls will close."))) send("end_event", {}, ui.end);
});

const quickPollForm = byTestId("quick-poll-form");
const quickPoll = createQuickPoll(quickPollForm, (fields, button) => send("add_poll", fields, button));
quickPollForm.elements.namedItem("case").addEventListener("change", () => quickPoll.markPicked());

attachQuestions(live, config);
live.start();

// Panelist links: "Copy link" puts the link on the clipboard (or selects it where the browser
// refuses the clipboard, so that Ctrl+C does the rest).
for (const button of document.querySelectorAll("[data-copy-link]")) {
  button.addEventListener("click", async () => {
    const field = button.parentElement.querySelector("input.panelist-url");
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = gettext("Copied");
    } catch {
      field.select();
      button.textContent = gettext("Press Ctrl+C");
    }
  });
}
