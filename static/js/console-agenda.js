// The console's agenda: every case with its hidden facts, polls and teaching points, and the
// commands for each (open with a countdown, close, reveal, preferred answer, duplicate, new
// round, reset with a confirmation step). Built once per agenda shape, updated in place.

import { CHOICE_KINDS } from "./charts.js";
import { byTestId, h, num, plural, show } from "./dom.js";
import { formatNumber, gettext, interpolate, ngettext, pgettext } from "./i18n.js";
import { POLL_STATE_TEXT, runCountdown } from "./render.js";

export const KIND_TEXT = {
  single: gettext("Single choice"),
  multi: gettext("Multiple choice"),
  likert: gettext("Rating scale"),
  numeric: gettext("Number"),
  text: gettext("Free text"),
  ranking: gettext("Ranking"),
};
const TIMERS = [
  ["", gettext("No countdown")],
  ["30", interpolate(ngettext("%s second", "%s seconds", 30), [formatNumber(30)])],
  ["60", interpolate(ngettext("%s minute", "%s minutes", 1), [formatNumber(1)])],
  ["120", interpolate(ngettext("%s minute", "%s minutes", 2), [formatNumber(2)])],
  ["300", interpolate(ngettext("%s minute", "%s minutes", 5), [formatNumber(5)])],
];
const ROUND_KINDS = new Set(["single", "likert"]);

function commandButton(testid, text, className, onclick) {
  return h("button", { type: "button", class: `button ${className}`, "data-testid": testid, onclick }, text);
}

/** The agenda's identity: rebuilt only when one of these changes (keeps focus and chosen timers). */
export function agendaShape(agenda) {
  return agenda.map((item) => [
    item.id,
    item.title,
    (item.facts || []).map((f) => [f.id, f.label]),
    item.polls.map((p) => [p.id, p.question, p.kind, p.round, p.options, Boolean(p.preferred), p.numeric]),
    item.teaching_points.map((p) => [p.id, p.title]),
  ]);
}

function pollDetails(poll) {
  if (poll.kind === "numeric") {
    const range = poll.numeric || {};
    const bounded = range.min !== null && range.max !== null;
    const values = { min: num(range.min, 6), max: num(range.max, 6), unit: range.unit };
    let text;
    if (bounded) {
      text = range.unit
        ? interpolate(gettext("A number from %(min)s to %(max)s (%(unit)s)."), values, true)
        : interpolate(gettext("A number from %(min)s to %(max)s."), values, true);
    } else {
      text = range.unit ? interpolate(gettext("Any number (%(unit)s)."), values, true) : gettext("Any number.");
    }
    return h("p", { class: "agenda-detail", text });
  }
  if (poll.kind === "text") {
    const limit = poll.text_max_length || 200;
    return h("p", {
      class: "agenda-detail",
      text: interpolate(ngettext("Short answers, up to %s character.", "Short answers, up to %s characters.", limit), [
        formatNumber(limit),
      ]),
    });
  }
  const options = poll.options.map((option) =>
    h(
      "li",
      { "data-option-id": option.id },
      h("span", { class: "opt-label", text: option.label }),
      poll.preferred && poll.preferred.options.includes(option.id)
        ? h("span", { class: "tag tag-preferred", text: gettext("Preferred") })
        : null,
      h("span", { class: "opt-count", "data-testid": `option-count-${option.id}` }),
    ),
  );
  return h("ol", { class: "agenda-options" }, options);
}

export function createAgenda(root, { send, askReset }) {
  const pollCommand =
    (type, poll, extra = {}) =>
    (e) =>
      send(type, { poll: poll.id, ...extra }, e.currentTarget);

  function pollItem(poll) {
    const timerId = `timer-${poll.id}`;
    const timer = h(
      "select",
      { id: timerId, class: "timer-select", "data-testid": timerId },
      TIMERS.map(([value, text]) => h("option", { value, text })),
    );
    const open = commandButton(`open-poll-${poll.id}`, gettext("Open poll"), "button-primary", (e) => {
      const duration = Number.parseInt(timer.value, 10);
      send("open_poll", duration ? { poll: poll.id, duration } : { poll: poll.id }, e.currentTarget);
    });
    const main = h(
      "div",
      { class: "actions", role: "group", "aria-label": gettext("Poll controls") },
      h("span", { class: "timer-field" }, h("label", { for: timerId, text: gettext("Countdown") }), timer),
      open,
      commandButton(`close-poll-${poll.id}`, gettext("Close poll"), "button-secondary", pollCommand("close_poll", poll)),
      commandButton(
        `reveal-results-${poll.id}`,
        gettext("Reveal results"),
        "button-secondary",
        pollCommand("reveal_results", poll),
      ),
      commandButton(`hide-results-${poll.id}`, gettext("Hide results"), "button-quiet", pollCommand("hide_results", poll)),
      poll.preferred
        ? [
            commandButton(
              `reveal-preferred-${poll.id}`,
              gettext("Reveal preferred answer"),
              "button-secondary",
              pollCommand("reveal_preferred", poll),
            ),
            commandButton(
              `hide-preferred-${poll.id}`,
              gettext("Hide preferred answer"),
              "button-quiet",
              pollCommand("hide_preferred", poll),
            ),
          ]
        : null,
    );
    const more = h(
      "div",
      { class: "actions actions-more", role: "group", "aria-label": gettext("More for this poll") },
      commandButton(`duplicate-poll-${poll.id}`, gettext("Duplicate"), "button-quiet", pollCommand("duplicate_poll", poll)),
      ROUND_KINDS.has(poll.kind)
        ? commandButton(`new-round-${poll.id}`, gettext("New round"), "button-quiet", pollCommand("new_round", poll))
        : null,
      commandButton(`reset-poll-${poll.id}`, gettext("Reset votes…"), "button-danger", (e) => askReset(poll, e.currentTarget)),
    );
    return h(
      "li",
      {
        class: "agenda-poll",
        "data-testid": "agenda-poll",
        "data-poll-id": poll.id,
        "data-kind": poll.kind,
        "data-round": poll.round || 1,
      },
      h("h4", { class: "agenda-poll-question", text: poll.question }),
      h(
        "p",
        { class: "agenda-meta" },
        h("span", { class: "badge", "data-testid": `poll-state-${poll.id}` }),
        h("span", { class: "badge badge-kind", text: KIND_TEXT[poll.kind] || poll.kind }),
        poll.round > 1
          ? h("span", {
              class: "badge badge-round",
              "data-testid": `poll-round-${poll.id}`,
              text: interpolate(gettext("Round %s"), [formatNumber(poll.round)]),
            })
          : null,
        h("span", { class: "meta-text", "data-testid": `poll-visibility-${poll.id}` }),
        h("span", { class: "meta-count", "data-testid": `poll-count-${poll.id}` }),
        h("span", { class: "countdown", "data-testid": `poll-countdown-${poll.id}`, role: "timer", hidden: true }),
      ),
      pollDetails(poll),
      h("p", { class: "agenda-summary", "data-testid": `poll-summary-${poll.id}`, hidden: true }),
      main,
      more,
    );
  }

  function toggleItem(kind, entity, title, testPrefix, reveal, hide) {
    return h(
      "li",
      {
        class: "agenda-point",
        "data-testid": `agenda-${kind}`,
        [`data-${kind === "point" ? "teaching-point" : kind}-id`]: entity.id,
      },
      h("span", { class: "point-title", text: title }),
      h("span", { class: "badge", "data-testid": `${testPrefix.state}-${entity.id}` }),
      commandButton(`${testPrefix.reveal}-${entity.id}`, gettext("Reveal"), "button-secondary", (e) => reveal(e.currentTarget)),
      commandButton(`${testPrefix.hide}-${entity.id}`, gettext("Hide"), "button-quiet", (e) => hide(e.currentTarget)),
    );
  }

  function factItem(fact) {
    return toggleItem(
      "fact",
      fact,
      fact.label,
      { state: "fact-state", reveal: "reveal-fact", hide: "hide-fact" },
      (button) => send("reveal_fact", { fact: fact.id }, button),
      (button) => send("hide_fact", { fact: fact.id }, button),
    );
  }

  function pointItem(point) {
    return toggleItem(
      "point",
      point,
      point.title,
      { state: "tp-state", reveal: "reveal-tp", hide: "hide-tp" },
      (button) => send("reveal_teaching_point", { teaching_point: point.id }, button),
      (button) => send("hide_teaching_point", { teaching_point: point.id }, button),
    );
  }

  function caseItem(item, index) {
    const facts = item.facts || [];
    return h(
      "li",
      { class: "agenda-case panel", "data-testid": "agenda-case", "data-case-id": item.id },
      h(
        "div",
        { class: "agenda-case-head" },
        h("h3", {}, h("span", { class: "agenda-index", text: `${formatNumber(index + 1)}.` }), " ", item.title),
        h("span", { class: "badge badge-live", "data-testid": `on-screen-${item.id}`, text: gettext("On screen") }),
        commandButton(`show-case-${item.id}`, gettext("Show case"), "button-secondary", (e) =>
          send("show_case", { case: item.id }, e.currentTarget),
        ),
      ),
      facts.length
        ? [
            h("h4", { class: "agenda-sub", text: gettext("Case facts to reveal") }),
            h("ul", { class: "agenda-points" }, facts.map(factItem)),
          ]
        : null,
      item.polls.length
        ? [
            h("h4", { class: "agenda-sub", text: gettext("Polls") }),
            h("ul", { class: "agenda-polls" }, item.polls.map(pollItem)),
          ]
        : h("p", { class: "quiet", text: gettext("No polls for this case.") }),
      item.teaching_points.length
        ? [
            h("h4", { class: "agenda-sub", text: gettext("Teaching points") }),
            h("ul", { class: "agenda-points" }, item.teaching_points.map(pointItem)),
          ]
        : null,
    );
  }

  function build(agenda) {
    root.replaceChildren(...agenda.map(caseItem));
  }

  function setControl(testid, enabled, visible = true) {
    const control = byTestId(testid, root);
    if (!control) return;
    control.hidden = !visible;
    if (control.getAttribute("aria-busy") !== "true") control.disabled = !enabled;
  }

  function setToggle(prefix, id, shown) {
    const badge = byTestId(`${prefix.state}-${id}`, root);
    badge.textContent = shown ? gettext("Shown") : gettext("Hidden");
    badge.dataset.state = shown ? "shown" : "hidden";
    setControl(`${prefix.reveal}-${id}`, !shown, !shown);
    setControl(`${prefix.hide}-${id}`, shown, shown);
  }

  function updatePoll(poll, ended) {
    const open = byTestId(`open-poll-${poll.id}`, root);
    open.textContent = poll.state === "closed" ? gettext("Reopen poll") : gettext("Open poll");
    setControl(`timer-${poll.id}`, poll.state !== "open" && !ended);
    setControl(`open-poll-${poll.id}`, poll.state !== "open" && !ended);
    setControl(`close-poll-${poll.id}`, poll.state === "open");
    setControl(`reveal-results-${poll.id}`, poll.state !== "draft" && !poll.results_visible, !poll.results_visible);
    setControl(`hide-results-${poll.id}`, poll.results_visible, poll.results_visible);
    if (poll.preferred) {
      const shown = Boolean(poll.preferred.revealed);
      setControl(`reveal-preferred-${poll.id}`, poll.state !== "draft" && !shown, !shown);
      setControl(`hide-preferred-${poll.id}`, shown, shown);
    }
    setControl(`new-round-${poll.id}`, poll.state === "closed");
    setControl(`reset-poll-${poll.id}`, poll.state === "closed");
    const badge = byTestId(`poll-state-${poll.id}`, root);
    badge.textContent = POLL_STATE_TEXT[poll.state] || poll.state;
    badge.dataset.state = poll.state;
    const preferredText = poll.preferred ? (poll.preferred.revealed ? gettext(" · preferred answer shown") : "") : "";
    byTestId(`poll-visibility-${poll.id}`, root).textContent =
      (poll.results_visible ? gettext("Results shown to the room") : gettext("Results hidden from the room")) + preferredText;
    const countdown = byTestId(`poll-countdown-${poll.id}`, root);
    const key = `${poll.state}:${poll.closes_at}`;
    if (countdown.dataset.key !== key) {
      countdown.dataset.key = key;
      runCountdown(countdown, poll);
    }
  }

  function update(state) {
    const onScreenCase = state.case ? state.case.id : null;
    const ended = state.event.status === "ended";
    for (const item of state.agenda) {
      show(byTestId(`on-screen-${item.id}`, root), item.id === onScreenCase);
      setControl(`show-case-${item.id}`, item.id !== onScreenCase);
      for (const fact of item.facts || []) {
        setToggle({ state: "fact-state", reveal: "reveal-fact", hide: "hide-fact" }, fact.id, fact.revealed);
      }
      for (const poll of item.polls) updatePoll(poll, ended);
      for (const point of item.teaching_points) {
        setToggle({ state: "tp-state", reveal: "reveal-tp", hide: "hide-tp" }, point.id, point.revealed);
      }
    }
  }

  /** Live counts per poll: per option for choice kinds, a one-line summary for the others. */
  function renderCounts(state, resultsOf) {
    for (const item of state.agenda || []) {
      for (const poll of item.polls) {
        const latest = resultsOf(poll.id);
        const count = byTestId(`poll-count-${poll.id}`, root);
        if (count) {
          count.textContent = latest ? plural(latest.total, ngettext("%s response", "%s responses", latest.total)) : "";
        }
        if (CHOICE_KINDS.has(poll.kind)) {
          for (const option of poll.options) {
            const cell = byTestId(`option-count-${option.id}`, root);
            if (cell) cell.textContent = optionCountText(poll, option.id, latest);
          }
        }
        const summary = byTestId(`poll-summary-${poll.id}`, root);
        const text = latest ? summaryText(poll, latest) : "";
        if (summary) {
          summary.textContent = text;
          summary.hidden = !text;
        }
      }
    }
  }

  return { build, update, renderCounts };
}

/** What an agenda option shows: its ballots, or for a ranking its Borda score (every ballot ranks every option). */
export function optionCountText(poll, optionId, results) {
  if (!results) return "";
  if (poll.kind === "ranking") {
    const entry = (results.ranking || []).find((r) => r.option === optionId);
    // A Borda score ("12 pts"), not a change in percentage points: its own context.
    return entry ? interpolate(pgettext("Borda score", "%s pts"), [formatNumber(entry.borda)]) : "";
  }
  return results.counts ? formatNumber(results.counts[String(optionId)] || 0) : "";
}

/** A poll's one-line live summary on the agenda (median, mean, answers waiting, the leader), or "". */
export function summaryText(poll, results) {
  if (poll.kind === "numeric" && results.numeric && results.numeric.n) {
    const unit = results.numeric.unit ? ` ${results.numeric.unit}` : "";
    return interpolate(
      gettext("Median %(median)s, n = %(n)s"),
      { median: `${num(results.numeric.median)}${unit}`, n: formatNumber(results.numeric.n) },
      true,
    );
  }
  if (poll.kind === "text" && results.answers) {
    const pending = results.pending || 0;
    const answers = plural(results.answers.length, ngettext("%s answer", "%s answers", results.answers.length));
    return interpolate(
      ngettext("%(answers)s · %(pending)s waiting for approval", "%(answers)s · %(pending)s waiting for approval", pending),
      { answers, pending: formatNumber(pending) },
      true,
    );
  }
  if (poll.kind === "likert" && results.scale && results.scale.mean !== null) {
    return interpolate(
      gettext("Mean %(mean)s, median %(median)s of %(points)s"),
      { mean: num(results.scale.mean), median: num(results.scale.median), points: formatNumber(results.scale.points) },
      true,
    );
  }
  if (poll.kind === "ranking" && results.ranking && results.ranking.length && results.total) {
    const top = poll.options.find((o) => o.id === results.ranking[0].option);
    return top ? interpolate(gettext("Ranked first overall: %s"), [top.label]) : "";
  }
  return "";
}
