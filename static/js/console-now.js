// The console's side panels for the poll on screen: live results of its kind (the moderator
// sees them before the room), rounds, transitions and panel, the free-text moderation queue,
// and the split by profile (on the console, and on the presenter on command).

import { renderComparisons, renderSegments } from "./comparisons.js";
import { byTestId, changed, h, plural, show } from "./dom.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { POLL_STATE_TEXT, renderResults } from "./render.js";

/** The moderation badge of a free-text answer. */
const ANSWER_STATUS_TEXT = { pending: gettext("Waiting"), approved: gettext("Shown"), rejected: gettext("Rejected") };

export function createNowPanel(ui, { send, isBusy, rerender }) {
  let consoleSplit = "";

  // ------------------------------------------------------- moderation queue

  function answerRow(answer) {
    const approve = h("button", {
      type: "button",
      class: "button button-secondary",
      "data-testid": `approve-answer-${answer.id}`,
      onclick: (e) => send("approve_answer", { answer: answer.id }, e.currentTarget),
      text: gettext("Approve"),
    });
    const reject = h("button", {
      type: "button",
      class: "button button-quiet",
      "data-testid": `reject-answer-${answer.id}`,
      onclick: (e) => send("reject_answer", { answer: answer.id }, e.currentTarget),
      text: gettext("Reject"),
    });
    return h(
      "li",
      { class: "queue-item", "data-testid": "queue-answer", "data-answer-id": answer.id },
      h("p", { class: "queue-text", text: answer.text }),
      h(
        "div",
        { class: "actions queue-actions", role: "group", "aria-label": gettext("Moderate this answer") },
        h("span", { class: "badge", "data-testid": `answer-status-${answer.id}` }),
        approve,
        reject,
      ),
    );
  }

  function renderQueue(poll, results) {
    const isText = Boolean(poll && poll.kind === "text");
    show(ui.queuePanel, isText);
    if (!isText) return;
    // Waiting answers first (newest first within each group, as the server sends them).
    const all = (results && results.answers) || [];
    const answers = [...all.filter((a) => a.status === "pending"), ...all.filter((a) => a.status !== "pending")];
    const pending = (results && results.pending) || 0;
    ui.pendingCount.textContent = plural(
      pending,
      ngettext("%s answer waiting for approval", "%s answers waiting for approval", pending),
    );
    ui.pendingCount.dataset.count = String(pending);
    ui.approveWaiting.dataset.poll = String(poll.id);
    if (!isBusy(ui.approveWaiting)) ui.approveWaiting.disabled = pending === 0;
    show(ui.queueEmpty, answers.length === 0);
    // Keyed update: rows keep their nodes (and keyboard focus) as answers come and go.
    const rows = new Map([...ui.queue.children].map((li) => [li.dataset.answerId, li]));
    answers.forEach((answer, index) => {
      let row = rows.get(String(answer.id));
      if (row && row.querySelector(".queue-text").textContent !== answer.text) {
        row.remove();
        row = null;
      }
      if (!row) row = answerRow(answer);
      rows.delete(String(answer.id));
      if (ui.queue.children[index] !== row) ui.queue.insertBefore(row, ui.queue.children[index] || null);
      const status = answer.status || "pending";
      row.dataset.status = status;
      const badge = byTestId(`answer-status-${answer.id}`, row);
      badge.textContent = ANSWER_STATUS_TEXT[status] || status;
      badge.dataset.state = status === "approved" ? "shown" : status;
      // Only the moves that change something: approve a waiting or rejected answer, withdraw a shown one.
      for (const [testid, wanted] of [
        [`approve-answer-${answer.id}`, status !== "approved"],
        [`reject-answer-${answer.id}`, status !== "rejected"],
      ]) {
        const button = byTestId(testid, row);
        button.hidden = !wanted;
        if (!isBusy(button)) button.disabled = !wanted;
      }
      byTestId(`reject-answer-${answer.id}`, row).textContent = status === "approved" ? gettext("Withdraw") : gettext("Reject");
    });
    for (const stale of rows.values()) stale.remove();
  }

  // ---------------------------------------------------------------- segments

  function questions(state) {
    return (state && state.event.profile_questions) || [];
  }

  function fillSelect(select, state, none) {
    const wanted = [["", none], ...questions(state).map((q) => [q.key, q.label])];
    if (!changed(select, wanted)) return;
    const value = select.value;
    select.replaceChildren(...wanted.map(([key, label]) => h("option", { value: key, text: label })));
    select.value = wanted.some(([key]) => key === value) ? value : "";
  }

  function renderSplit(state, poll, results) {
    const asked = questions(state);
    show(ui.segmentsPanel, asked.length > 0);
    if (!asked.length) return;
    fillSelect(ui.segmentSelect, state, gettext("No split"));
    fillSelect(ui.presenterSegment, state, gettext("Not split"));
    if (!isBusy(ui.presenterSegment)) {
      ui.presenterSegment.disabled = false;
      ui.presenterSegment.value = state.event.segment || "";
    }
    ui.presenterSegmentNote.textContent = state.event.segment
      ? gettext("The presenter and phones show revealed results split this way.")
      : gettext("The presenter shows results for everyone together.");
    consoleSplit = ui.segmentSelect.value;
    const entries = consoleSplit && poll && results && results.segments ? results.segments[consoleSplit] || [] : null;
    const label = (asked.find((q) => q.key === consoleSplit) || {}).label || "";
    show(ui.segments, Boolean(entries));
    renderSegments(ui.segments, poll, entries, { label, level: 3 });
    show(ui.segmentsHint, !poll && Boolean(consoleSplit));
  }

  // ------------------------------------------------------------------ entry

  function render(state, poll, latest) {
    show(ui.nowPoll, Boolean(poll));
    renderQueue(poll, latest);
    renderSplit(state, poll, latest);
    if (!poll) {
      renderComparisons(ui.comparisons, null, null);
      return;
    }
    ui.nowQuestion.textContent =
      poll.round > 1
        ? interpolate(gettext("%(question)s (round %(round)s)"), { question: poll.question, round: poll.round }, true)
        : poll.question;
    const visibility = poll.results_visible
      ? gettext("results shown to the room")
      : gettext("results hidden from the room");
    ui.nowMeta.textContent = [POLL_STATE_TEXT[poll.state] || poll.state, visibility].join(" · ");
    const results = latest || { total: 0, counts: {} };
    ui.total.textContent = plural(results.total || 0, ngettext("%s response", "%s responses", results.total || 0));
    // Free text: the queue below lists every answer, so the summary here is the cloud of approved ones.
    renderResults(ui.results, poll, results, { textView: "cloud", showHiddenPreferred: true });
    show(ui.comparisons, renderComparisons(ui.comparisons, poll, results, { level: 3, showHiddenPreferred: true }));
  }

  ui.approveWaiting.addEventListener("click", () =>
    send("approve_waiting_answers", { poll: Number(ui.approveWaiting.dataset.poll) }, ui.approveWaiting),
  );
  ui.segmentSelect.addEventListener("change", () => {
    consoleSplit = ui.segmentSelect.value;
    rerender();
  });
  ui.presenterSegment.addEventListener("change", () => {
    const value = ui.presenterSegment.value;
    send("show_segments", { attribute: value || null }, ui.presenterSegment);
  });

  return { render };
}
