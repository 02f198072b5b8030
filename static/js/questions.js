// Audience questions on every screen (docs/protocol.md, `questions`): the phone's ask box with
// similar questions while typing and the upvote toggles, the console's moderation list, the
// projector's pinned question and top list. Attached to the page's LiveConnection with
// attachQuestions(live, config); it finds its own section of the page, or does nothing.

import { byTestId, h, show } from "./dom.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { newRef } from "./live.js";
import { Outbox } from "./outbox.js";
import {
  MAX_QUESTION_LENGTH,
  consoleGroups,
  consoleQuestion,
  phoneQuestion,
  pinnedQuestion,
  similarQuestions,
  stageQuestion,
  topQuestions,
} from "./questions-render.js";

const RETRYABLE = new Set(["unavailable", "rate_limited", "server_error"]);
const RETRY_MS = 2000;

export function attachQuestions(live, config, options = {}) {
  if (config.role === "participant") return attachPhone(live, byTestId("questions-panel"), config);
  if (config.role === "moderator") return attachConsole(live, byTestId("questions-console"));
  if (config.role === "presenter") return attachStage(live, byTestId("stage-questions"), options);
  return null;
}

/** Frames sent with a ref and resent with the same ref until answered (after a reconnect too). */
class Outgoing {
  constructor(live) {
    this.live = live;
    this.frames = new Map(); // ref -> frame
  }

  send(frame) {
    this.frames.set(frame.ref, frame);
    return this.live.command(frame);
  }

  resendAll() {
    for (const frame of this.frames.values()) this.live.command(frame);
  }

  take(ref) {
    const frame = ref ? this.frames.get(ref) : undefined;
    if (frame) this.frames.delete(ref);
    return frame;
  }

  retryLater(ref) {
    const frame = this.frames.get(ref);
    if (frame) setTimeout(() => this.frames.has(ref) && this.live.command(frame), RETRY_MS);
  }
}

// ------------------------------------------------------------------ phone

function attachPhone(live, root, config) {
  if (!root) return null;
  const ui = {
    form: byTestId("question-form", root),
    text: byTestId("question-input", root),
    nameRow: byTestId("question-name-row", root),
    name: byTestId("question-name", root),
    counter: byTestId("question-counter", root),
    submit: byTestId("question-submit", root),
    status: byTestId("question-status", root),
    similar: byTestId("question-similar", root),
    list: byTestId("question-list", root),
    empty: byTestId("question-empty", root),
    intro: byTestId("question-intro", root),
  };
  const outgoing = new Outgoing(live);
  // Kept across reloads (bad hotel Wi-Fi, a phone that locks): the question being written, and
  // the one sent but not yet acknowledged, which goes out again with its ref (asked once, whatever is resent).
  const draft = new Outbox(config.code, "ask-draft");
  const pendingAsk = new Outbox(config.code, "ask");
  let frame = null;

  function keepDraft() {
    const text = ui.text.value;
    if (text.trim() || ui.name.value.trim()) draft.set({ text, name: ui.name.value });
    else draft.clear();
  }

  function say(text, isError = false) {
    ui.status.textContent = text;
    ui.status.classList.toggle("q-status-error", isError);
  }

  function toggle(q) {
    const ref = newRef();
    const sent = outgoing.send({ type: q.voted ? "unvote" : "upvote", ref, question: q.id });
    if (!sent) say(gettext("Not connected: your vote goes out when the connection is back."));
  }

  function renderSimilar() {
    const matches = frame ? similarQuestions(ui.text.value, frame.items) : [];
    ui.similar.replaceChildren(
      ...(matches.length
        ? [
            h("p", { class: "q-similar-title", text: gettext("Already asked? Vote for it instead:") }),
            h("ul", { class: "q-list" }, matches.map((q) => phoneQuestion(q, { onToggle: toggle }))),
          ]
        : []),
    );
    show(ui.similar, matches.length > 0);
  }

  function render() {
    if (!frame) return;
    show(root, frame.enabled);
    show(ui.nameRow, frame.names);
    ui.intro.textContent = frame.moderated
      ? gettext("Ask the panel. A moderator reviews questions before the room sees them.")
      : gettext("Ask the panel. Your question appears for everyone at once.");
    // A keyboard user's focus stays on the toggle it was on, whatever the frame reordered.
    const active = document.activeElement;
    const focused = active && ui.list.contains(active) ? active.closest("[data-question]") : null;
    ui.list.replaceChildren(...frame.items.map((q) => phoneQuestion(q, { onToggle: toggle })));
    if (focused) {
      const again = ui.list.querySelector(`[data-question="${focused.dataset.question}"] [data-testid="question-upvote"]`);
      if (again) again.focus({ preventScroll: true });
    }
    show(ui.empty, frame.items.length === 0);
    renderSimilar();
  }

  function updateCounter() {
    const left = MAX_QUESTION_LENGTH - ui.text.value.length;
    ui.counter.textContent = interpolate(ngettext("%s character left", "%s characters left", left), [left]);
  }

  ui.text.maxLength = MAX_QUESTION_LENGTH;
  ui.text.addEventListener("input", () => {
    updateCounter();
    renderSimilar();
    keepDraft();
  });
  ui.name.addEventListener("input", keepDraft);
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.text.value.trim();
    if (!text) {
      say(gettext("Write your question first."), true);
      return;
    }
    const ask = { type: "ask", ref: newRef(), text };
    const name = frame && frame.names ? ui.name.value.trim() : "";
    if (name) ask.name = name;
    ui.submit.disabled = true;
    pendingAsk.set(ask);
    if (!outgoing.send(ask)) say(gettext("Not connected: your question goes out when the connection is back."));
    else say(gettext("Sending…"));
  });

  const unsent = pendingAsk.get();
  const written = draft.get();
  if (unsent && typeof unsent.text === "string" && unsent.ref) {
    // Sent before a reload and never acknowledged: it goes out again, with its ref, on connect.
    ui.text.value = unsent.text;
    ui.submit.disabled = true;
    outgoing.frames.set(unsent.ref, unsent);
    say(gettext("Sending your question…"));
  } else if (written && typeof written.text === "string") {
    ui.text.value = written.text;
    ui.name.value = typeof written.name === "string" ? written.name : "";
  }
  updateCounter();

  live.use({
    onQuestions(next) {
      frame = next;
      render();
    },
    onState(state, via) {
      if (via === "ws") outgoing.resendAll(); // after a reconnect, with the same refs
    },
    onAck(ack) {
      const sent = outgoing.take(ack.ref);
      if (!sent) return false;
      if (sent.type === "ask") {
        pendingAsk.clear();
        draft.clear();
        ui.text.value = "";
        ui.submit.disabled = false;
        updateCounter();
        renderSimilar();
        say(
          frame && !frame.moderated
            ? gettext("Thank you: your question is on the list.")
            : gettext("Thank you: your question awaits the moderator."),
        );
      } else if (frame) {
        const q = frame.items.find((item) => item.id === ack.question);
        if (q) Object.assign(q, { votes: ack.votes, voted: sent.type === "upvote" });
        render();
      }
      return true;
    },
    onError(error) {
      if (!error.ref || !outgoing.frames.has(error.ref)) return false;
      if (RETRYABLE.has(error.code)) {
        outgoing.retryLater(error.ref);
        return true;
      }
      const sent = outgoing.take(error.ref);
      if (sent.type === "ask") {
        pendingAsk.clear(); // refused: the text stays in the box (and the draft) to be corrected
        ui.submit.disabled = false;
      }
      say(error.message, true);
      return true;
    },
  });
  return { render };
}

// ------------------------------------------------------------------ console

const COMMAND_DONE = {
  approve_question: gettext("Approved."),
  dismiss_question: gettext("Dismissed."),
  restore_question: gettext("Restored."),
  answer_question: gettext("Marked answered."),
  pin_question: gettext("Pinned on the projector."),
  unpin_question: gettext("Unpinned."),
  merge_question: gettext("Merged: its votes now count on the kept question."),
};

function attachConsole(live, root) {
  if (!root) return null;
  const ui = {
    lists: { pending: byTestId("questions-pending", root), approved: byTestId("questions-approved", root), dismissed: byTestId("questions-dismissed", root) },
    counts: { pending: byTestId("questions-pending-count", root), approved: byTestId("questions-approved-count", root), dismissed: byTestId("questions-dismissed-count", root) },
    status: byTestId("questions-console-status", root),
    settings: byTestId("questions-settings", root),
  };
  const outgoing = new Outgoing(live);
  let frame = null;

  function command(type, fields, button) {
    if (button) button.disabled = true;
    if (!outgoing.send({ type, ref: newRef(), ...fields })) {
      ui.status.textContent = interpolate(gettext("Not connected, so nothing was sent. Try again when the status shows “%s”."), [
        gettext("Live"),
      ]);
      if (button) button.disabled = false;
    }
  }

  /** What the moderator is in the middle of (a merge target picked, a focused control) survives a re-render. */
  function remember() {
    const choices = new Map();
    for (const select of root.querySelectorAll('[data-testid="question-merge-target"]')) {
      const item = select.closest("[data-question]");
      if (item && select.value) choices.set(item.dataset.question, select.value);
    }
    const active = document.activeElement;
    const item = active && root.contains(active) ? active.closest("[data-question]") : null;
    const focus = item && active.dataset.testid ? [item.dataset.question, active.dataset.testid] : null;
    return { choices, focus };
  }

  function restore({ choices, focus }) {
    for (const [question, value] of choices) {
      const select = root.querySelector(`[data-question="${question}"] [data-testid="question-merge-target"]`);
      if (select && [...select.options].some((option) => option.value === value)) select.value = value;
    }
    if (focus) {
      const node = root.querySelector(`[data-question="${focus[0]}"] [data-testid="${focus[1]}"]`);
      if (node) node.focus({ preventScroll: true });
    }
  }

  function render() {
    if (!frame) return;
    const groups = consoleGroups(frame.items);
    const targets = groups.approved.concat(groups.pending);
    const kept = remember();
    for (const key of Object.keys(ui.lists)) {
      ui.lists[key].replaceChildren(...groups[key].map((q) => consoleQuestion(q, { onCommand: command, mergeTargets: targets })));
      ui.counts[key].textContent = String(groups[key].length);
    }
    restore(kept);
    ui.settings.textContent = [
      frame.enabled ? gettext("Questions on") : gettext("Questions off"),
      frame.moderated ? gettext("moderated first") : gettext("published directly"),
      frame.names ? gettext("names allowed") : gettext("anonymous"),
    ].join(" · ");
  }

  live.use({
    onQuestions(next) {
      frame = next;
      render();
    },
    onAck(ack) {
      const sent = outgoing.take(ack.ref);
      if (!sent) return false;
      ui.status.textContent = COMMAND_DONE[sent.type] || gettext("Done.");
      render();
      return true;
    },
    onError(error) {
      const sent = outgoing.take(error.ref);
      if (!sent) return false;
      ui.status.textContent = interpolate(gettext("Could not do that: %s"), [error.message]);
      render();
      return true;
    },
  });
  return { render };
}

// ------------------------------------------------------------------ projector

function attachStage(live, root, { onRender } = {}) {
  if (!root) return null;
  const ui = {
    pinned: byTestId("stage-pinned", root),
    top: byTestId("stage-top-questions", root),
    topTitle: byTestId("stage-top-title", root),
    topList: byTestId("stage-top-list", root),
    empty: byTestId("stage-questions-empty", root),
  };
  let frame = null;

  // The questions screen (event.screen "questions"): the pinned question large, then the top
  // approved open ones by votes; with nothing approved yet, an invitation to ask.
  function render() {
    const items = frame && frame.enabled ? frame.items : [];
    const pinned = pinnedQuestion(items);
    const top = topQuestions(items, pinned ? 3 : 5);
    ui.pinned.replaceChildren(pinned ? stageQuestion(pinned, { large: true }) : "");
    show(ui.pinned, Boolean(pinned));
    ui.topList.replaceChildren(...top.map((q) => stageQuestion(q)));
    ui.topTitle.textContent = pinned ? gettext("Next questions") : gettext("Top questions");
    show(ui.top, top.length > 0);
    show(ui.empty, !pinned && top.length === 0);
    if (onRender) onRender();
  }

  live.use({
    onQuestions(next) {
      frame = next;
      render();
    },
  });
  return { render };
}
