// The moderator console: event status, the agenda with its commands, live counts.

import { LiveConnection, newRef, readConfig } from "./live.js";
import { POLL_STATE_TEXT, byTestId, changed, h, plural, renderResults, setStatusPill, show } from "./render.js";

const config = readConfig();
const ui = {
  status: byTestId("connection-status"),
  eventStatus: byTestId("event-status"),
  start: byTestId("start-event"),
  end: byTestId("end-event"),
  errors: byTestId("console-errors"),
  agenda: byTestId("agenda"),
  agendaEmpty: byTestId("agenda-empty"),
  nowCase: byTestId("now-case"),
  nowPoll: byTestId("now-poll"),
  nowQuestion: byTestId("now-poll-question"),
  nowMeta: byTestId("now-poll-meta"),
  total: byTestId("results-total"),
  results: byTestId("results-list"),
};

const EVENT_STATUS_TEXT = { draft: "Event not started", live: "Event live", ended: "Event ended" };
const COMMAND_TEXT = {
  open_poll: "open the poll",
  close_poll: "close the poll",
  reveal_results: "reveal the results",
  hide_results: "hide the results",
  show_case: "show the case",
  reveal_teaching_point: "reveal the teaching point",
  hide_teaching_point: "hide the teaching point",
  start_event: "start the event",
  end_event: "end the event",
};

let state = null;
const pending = new Map(); // ref -> {type, button}
let refocus = null;

/** A button disabled while its command ran loses focus: give it back, or to its nearest usable neighbour. */
function keepFocus(button) {
  const active = document.activeElement;
  if (!button || !button.isConnected || (active && active !== document.body && active !== button)) return;
  const group = button.closest(".actions, .agenda-point, .agenda-case-head, .event-controls");
  const usable = (b) => !b.disabled && !b.hidden;
  const target = usable(button) ? button : group && [...group.querySelectorAll("button")].find(usable);
  if (target && target !== active) target.focus({ preventScroll: true });
}

const live = new LiveConnection(config, {
  onState(next) {
    state = next;
    render();
    keepFocus(refocus);
    refocus = null;
  },
  onResults: () => renderCounts(),
  onAck: (ack) => settle(ack.ref),
  onError(error) {
    const command = settle(error.ref);
    const what = command ? `Could not ${COMMAND_TEXT[command.type] || command.type}: ` : "";
    report(`${what}${error.message}`);
  },
  onStatus(status) {
    setStatusPill(ui.status, status);
    if (status !== "live" && pending.size > 0) {
      // The answers to these commands died with the connection: free the buttons, say so.
      for (const ref of [...pending.keys()]) settle(ref);
      report("The connection dropped before the server answered. Check the agenda once it is Live again.");
    }
  },
});

function report(message) {
  ui.errors.replaceChildren(
    h(
      "p",
      { class: "console-error", "data-testid": "console-error" },
      h("span", { text: message }),
      h("button", { type: "button", class: "button button-quiet", onclick: () => ui.errors.replaceChildren() }, "Dismiss"),
    ),
  );
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
    report(`Not connected, so nothing was sent. Try again when the status shows “Live”.`);
    return;
  }
  ui.errors.replaceChildren();
  pending.set(ref, { type, button });
  if (button) {
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
  }
}

function busy(button) {
  return button.getAttribute("aria-busy") === "true";
}

function commandButton(testid, text, className, onclick) {
  return h("button", { type: "button", class: `button ${className}`, "data-testid": testid, onclick }, text);
}

// ------------------------------------------------------------------ agenda

function pollItem(poll) {
  const actions = h(
    "div",
    { class: "actions", role: "group", "aria-label": "Poll controls" },
    commandButton(`open-poll-${poll.id}`, "Open poll", "button-primary", (e) =>
      send("open_poll", { poll: poll.id }, e.currentTarget),
    ),
    commandButton(`close-poll-${poll.id}`, "Close poll", "button-secondary", (e) =>
      send("close_poll", { poll: poll.id }, e.currentTarget),
    ),
    commandButton(`reveal-results-${poll.id}`, "Reveal results", "button-secondary", (e) =>
      send("reveal_results", { poll: poll.id }, e.currentTarget),
    ),
    commandButton(`hide-results-${poll.id}`, "Hide results", "button-quiet", (e) =>
      send("hide_results", { poll: poll.id }, e.currentTarget),
    ),
  );
  const options = poll.options.map((option) =>
    h(
      "li",
      { "data-option-id": option.id },
      h("span", { class: "opt-label", text: option.label }),
      h("span", { class: "opt-count", "data-testid": `option-count-${option.id}` }),
    ),
  );
  return h(
    "li",
    { class: "agenda-poll", "data-testid": "agenda-poll", "data-poll-id": poll.id },
    h("h4", { class: "agenda-poll-question", text: poll.question }),
    h(
      "p",
      { class: "agenda-meta" },
      h("span", { class: "badge", "data-testid": `poll-state-${poll.id}` }),
      h("span", { class: "meta-text", "data-testid": `poll-visibility-${poll.id}` }),
      h("span", { class: "meta-count", "data-testid": `poll-count-${poll.id}` }),
    ),
    h("ol", { class: "agenda-options" }, options),
    actions,
  );
}

function pointItem(point) {
  return h(
    "li",
    { class: "agenda-point", "data-testid": "agenda-point", "data-teaching-point-id": point.id },
    h("span", { class: "point-title", text: point.title }),
    h("span", { class: "badge", "data-testid": `tp-state-${point.id}` }),
    h("button", {
      type: "button",
      class: "button button-secondary",
      "data-testid": `reveal-tp-${point.id}`,
      onclick: (e) => send("reveal_teaching_point", { teaching_point: point.id }, e.currentTarget),
      text: "Reveal",
    }),
    h("button", {
      type: "button",
      class: "button button-quiet",
      "data-testid": `hide-tp-${point.id}`,
      onclick: (e) => send("hide_teaching_point", { teaching_point: point.id }, e.currentTarget),
      text: "Hide",
    }),
  );
}

function caseItem(item, index) {
  const headingId = `agenda-case-${item.id}`;
  return h(
    "li",
    { class: "agenda-case panel", "data-testid": "agenda-case", "data-case-id": item.id },
    h(
      "div",
      { class: "agenda-case-head" },
      h("h3", { id: headingId }, h("span", { class: "agenda-index", text: `${index + 1}.` }), " ", item.title),
      h("span", { class: "badge badge-live", "data-testid": `on-screen-${item.id}`, text: "On screen" }),
      commandButton(`show-case-${item.id}`, "Show case", "button-secondary", (e) =>
        send("show_case", { case: item.id }, e.currentTarget),
      ),
    ),
    item.polls.length
      ? [h("h4", { class: "agenda-sub", text: "Polls" }), h("ul", { class: "agenda-polls" }, item.polls.map(pollItem))]
      : h("p", { class: "quiet", text: "No polls for this case." }),
    item.teaching_points.length
      ? [
          h("h4", { class: "agenda-sub", text: "Teaching points" }),
          h("ul", { class: "agenda-points" }, item.teaching_points.map(pointItem)),
        ]
      : null,
  );
}

function setButton(testid, enabled, visible = true) {
  const button = byTestId(testid, ui.agenda);
  if (!button) return;
  button.hidden = !visible;
  if (!busy(button)) button.disabled = !enabled;
}

function updateAgenda() {
  const onScreenCase = state.case ? state.case.id : null;
  for (const item of state.agenda) {
    show(byTestId(`on-screen-${item.id}`, ui.agenda), item.id === onScreenCase);
    setButton(`show-case-${item.id}`, item.id !== onScreenCase);
    for (const poll of item.polls) {
      const open = byTestId(`open-poll-${poll.id}`, ui.agenda);
      open.textContent = poll.state === "closed" ? "Reopen poll" : "Open poll";
      setButton(`open-poll-${poll.id}`, poll.state !== "open" && state.event.status !== "ended");
      setButton(`close-poll-${poll.id}`, poll.state === "open");
      setButton(`reveal-results-${poll.id}`, poll.state !== "draft" && !poll.results_visible, !poll.results_visible);
      setButton(`hide-results-${poll.id}`, poll.results_visible, poll.results_visible);
      const badge = byTestId(`poll-state-${poll.id}`, ui.agenda);
      badge.textContent = POLL_STATE_TEXT[poll.state] || poll.state;
      badge.dataset.state = poll.state;
      byTestId(`poll-visibility-${poll.id}`, ui.agenda).textContent = poll.results_visible
        ? "Results shown to the room"
        : "Results hidden from the room";
    }
    for (const point of item.teaching_points) {
      const badge = byTestId(`tp-state-${point.id}`, ui.agenda);
      badge.textContent = point.revealed ? "Shown" : "Hidden";
      badge.dataset.state = point.revealed ? "shown" : "hidden";
      setButton(`reveal-tp-${point.id}`, !point.revealed, !point.revealed);
      setButton(`hide-tp-${point.id}`, point.revealed, point.revealed);
    }
  }
}

// ------------------------------------------------------------------ counts

function currentPoll() {
  if (!state || !state.poll) return null;
  for (const item of state.agenda || []) {
    const match = item.polls.find((p) => p.id === state.poll.id);
    if (match) return match;
  }
  return state.poll;
}

function renderCounts() {
  if (!state) return;
  for (const item of state.agenda || []) {
    for (const poll of item.polls) {
      const { latest } = live.resultsFor(poll.id);
      const count = byTestId(`poll-count-${poll.id}`, ui.agenda);
      if (count) count.textContent = latest ? plural(latest.total, "response", "responses") : "";
      for (const option of poll.options) {
        const cell = byTestId(`option-count-${option.id}`, ui.agenda);
        const n = latest && latest.counts ? latest.counts[String(option.id)] || 0 : null;
        if (cell) cell.textContent = n === null ? "" : String(n);
      }
    }
  }
  const poll = currentPoll();
  show(ui.nowPoll, Boolean(poll));
  if (!poll) return;
  const { latest } = live.resultsFor(poll.id);
  ui.nowQuestion.textContent = poll.question;
  ui.nowMeta.textContent = `${POLL_STATE_TEXT[poll.state] || poll.state} · ${
    poll.results_visible ? "results shown to the room" : "results hidden from the room"
  }`;
  ui.total.textContent = plural(latest ? latest.total : 0, "response", "responses");
  renderResults(ui.results, poll, latest || { total: 0, counts: {} });
}

function render() {
  if (!state) return;
  const status = state.event.status;
  ui.eventStatus.textContent = EVENT_STATUS_TEXT[status] || status;
  ui.eventStatus.dataset.state = status;
  ui.start.textContent = status === "ended" ? "Resume event" : "Start event";
  if (!busy(ui.start)) ui.start.disabled = status === "live";
  if (!busy(ui.end)) ui.end.disabled = status !== "live";

  const agenda = state.agenda || [];
  show(ui.agendaEmpty, agenda.length === 0);
  ui.agendaEmpty.textContent = "No cases on this event's agenda yet.";
  const shape = agenda.map((item) => [
    item.id,
    item.title,
    item.polls.map((p) => [p.id, p.question, p.options]),
    item.teaching_points.map((p) => [p.id, p.title]),
  ]);
  if (changed(ui.agenda, shape)) ui.agenda.replaceChildren(...agenda.map(caseItem));
  updateAgenda();
  ui.nowCase.textContent = state.case ? `Case: ${state.case.title}` : "No case on screen.";
  renderCounts();
}

ui.start.addEventListener("click", () => send("start_event", {}, ui.start));
ui.end.addEventListener("click", () => {
  // Ending closes every open poll and turns new participants away: ask first.
  if (window.confirm("End the event for everyone? Open polls will close.")) send("end_event", {}, ui.end);
});

live.start();
