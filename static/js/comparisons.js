// Did the discussion change minds? Rounds side by side, the transition matrix, panel versus
// audience with the concordance figure, and results split by a profile attribute (segments).
// Tables carry the numbers (accessible); bars and the flow drawing are decoration on top.

import { changed, h, heading, num, optionLabel, percent, plural, pointsText } from "./dom.js";
import { CHOICE_KINDS, preferredIds } from "./charts.js";
import { flowDrawing } from "./flow.js";
import { formatNumber, formatPercent, gettext, interpolate, ngettext } from "./i18n.js";

function bar(share, className = "") {
  const fill = h("span", { class: `mini-fill ${className}` });
  fill.style.width = `${Math.max(0, Math.min(100, share))}%`;
  return h("span", { class: "mini-bar", "aria-hidden": "true" }, fill);
}

function valueCell(pct, count, className, attrs = {}) {
  return h(
    "td",
    { class: "value-cell", ...attrs },
    h("span", { class: "cell-value", text: formatPercent(pct) }),
    count === null ? null : h("span", { class: "cell-count", text: ` (${formatNumber(count)})` }),
    bar(pct, className),
  );
}

function labelCell(text, isPreferred) {
  return h(
    "th",
    { scope: "row", class: "row-label" },
    h("span", { text }),
    isPreferred ? h("span", { class: "tag tag-preferred", text: gettext("Preferred") }) : null,
  );
}

// -------------------------------------------------- rounds, panel, audience

/** The panel's counts, or null: none voted, or fewer than the event's small-cell size (the
 * server then sends only its size, `suppressed`, so that a lone panelist's vote stays private). */
export function shownPanel(results) {
  const panel = results && results.panel;
  return panel && !panel.suppressed && panel.counts ? panel : null;
}

/** Votes for option `i` in round `r`: exact for the poll shown; for another round (whose option
 * ids this screen does not know) recovered from its one-decimal percentage, exact below 1000. */
export function roundCount(poll, r, i) {
  if (r.poll === poll.id && poll.options[i]) return (r.counts || {})[String(poll.options[i].id)] || 0;
  const share = (r.percent || [])[i];
  return share === undefined || r.total >= 1000 ? null : Math.round((share * r.total) / 100);
}

function columnHead(title, sub) {
  return h("th", { scope: "col" }, title, h("span", { class: "th-sub", text: sub }));
}

/**
 * One table, one row per answer: every round side by side with the change in points between
 * the two latest (from the percentages shown), and the expert panel next to the audience.
 */
function compareTable(poll, results, preferred) {
  const rounds = Array.isArray(results.rounds) && results.rounds.length > 1 ? results.rounds : null;
  const panel = shownPanel(results);
  const shown = rounds ? rounds.map((r) => (r.percent || []).map((p) => Math.round(p))) : [];
  const last = shown.length - 1;
  const counts = results.counts || {};
  const head = [h("th", { scope: "col", text: gettext("Answer") })];
  if (rounds) {
    head.push(
      rounds.map((r) =>
        columnHead(roundTitle(r.round), plural(r.total, ngettext("%s response", "%s responses", r.total))),
      ),
    );
    head.push(h("th", { scope: "col", text: gettext("Change") }));
  } else {
    head.push(columnHead(gettext("Audience"), plural(results.total, ngettext("%s vote", "%s votes", results.total))));
  }
  if (panel) {
    head.push(
      columnHead(gettext("Expert panel"), plural(panel.total, ngettext("%s panelist", "%s panelists", panel.total))),
    );
  }
  const body = poll.options.map((option, i) => {
    const key = String(option.id);
    const cells = [labelCell(option.label, preferred && preferred.has(key))];
    if (rounds) {
      rounds.forEach((r, k) => {
        const attrs = { "data-testid": "round-percent", "data-round": r.round };
        cells.push(valueCell(shown[k][i] || 0, roundCount(poll, r, i), k === last ? "fill-now" : "fill-before", attrs));
      });
      const delta = (shown[last][i] || 0) - (shown[last - 1][i] || 0);
      cells.push(
        h("td", {
          class: `shift ${delta > 0 ? "shift-up" : delta < 0 ? "shift-down" : "shift-none"}`,
          "data-testid": "round-shift",
          text: pointsText(delta),
        }),
      );
    } else {
      const n = counts[key] || 0;
      cells.push(valueCell(percent(n, results.total), n, "fill-now", { "data-testid": "audience-percent" }));
    }
    if (panel) {
      const n = (panel.counts || {})[key] || 0;
      cells.push(valueCell(percent(n, panel.total), n, "fill-panel", { "data-testid": "panel-percent" }));
    }
    return h("tr", { "data-option-id": option.id, "data-testid": "compare-row" }, cells);
  });
  let caption;
  if (rounds) {
    caption = panel
      ? gettext(
          "Share of respondents choosing each answer in each round, and the change in percentage points since the previous round and the share of the expert panel",
        )
      : gettext(
          "Share of respondents choosing each answer in each round, and the change in percentage points since the previous round",
        );
  } else {
    caption = panel
      ? gettext("Share of the audience choosing each answer and the share of the expert panel")
      : gettext("Share of the audience choosing each answer");
  }
  return h(
    "table",
    { class: "compare-table", "data-testid": rounds ? "rounds-table" : "panel-table" },
    h("caption", { class: "visually-hidden", text: caption }),
    h("thead", {}, h("tr", {}, head)),
    h("tbody", {}, body),
  );
}

function compareSection(poll, results, preferred, level) {
  const rounds = Array.isArray(results.rounds) && results.rounds.length > 1 ? results.rounds : null;
  let title = gettext("Expert panel and audience");
  if (rounds) {
    const withPanel = Boolean(shownPanel(results));
    if (rounds.length > 2) {
      title = withPanel ? gettext("Every round side by side, with the expert panel") : gettext("Every round side by side");
    } else {
      const format = withPanel
        ? gettext("Round %(first)s and round %(second)s side by side, with the expert panel")
        : gettext("Round %(first)s and round %(second)s side by side");
      title = interpolate(format, { first: formatNumber(rounds[0].round), second: formatNumber(rounds[1].round) }, true);
    }
  }
  return h(
    "section",
    { class: "compare", "data-testid": rounds ? "rounds" : "panel-compare", "aria-label": title },
    heading(level, { class: "compare-title" }, title),
    h("div", { class: "table-scroll" }, compareTable(poll, results, preferred)),
  );
}

// ------------------------------------------------------------- transitions

/** "Round 2" as a heading. */
function roundTitle(round) {
  return interpolate(gettext("Round %s"), [formatNumber(round)]);
}

/** Shading 0 (nobody) to 4 (the largest cell) of a matrix cell. */
export function heat(count, most) {
  return count ? 1 + Math.min(3, Math.floor((3 * count) / most)) : 0;
}

function transitionsSection(poll, results, level) {
  const t = results.transitions;
  const roundOf = (pollId) => (results.rounds || []).find((r) => r.poll === pollId);
  const before = roundOf(t.from_poll);
  const after = roundOf(t.to_poll);
  const fromName = before ? roundTitle(before.round) : gettext("Before");
  const toName = after ? roundTitle(after.round) : gettext("Now");
  // The same rounds inside a sentence (lower case where the language writes it so).
  const fromInText = before
    ? interpolate(gettext("round %s"), [formatNumber(before.round)])
    : gettext("before");
  const toInText = after ? interpolate(gettext("round %s"), [formatNumber(after.round)]) : gettext("now");
  const fromLabels = t.from_options.map((_, i) =>
    poll.options[i] ? poll.options[i].label : interpolate(gettext("Option %s"), [formatNumber(i + 1)]),
  );
  const toLabels = t.to_options.map((id, j) => optionLabel(poll, id) || fromLabels[j]);
  const most = Math.max(1, ...t.matrix.flat());
  const letter = (i) => String.fromCharCode(65 + (i % 26));
  // Column heads show the answer's letter (the label is read out, and shown on hover); rows show both.
  const head = h(
    "tr",
    {},
    h(
      "th",
      { scope: "col", class: "corner" },
      `${fromName} \u2193`,
      h("span", { class: "th-sub", text: `${toName} \u2192` }),
    ),
    toLabels.map((label, j) =>
      h(
        "th",
        { scope: "col", class: "matrix-head", title: label },
        h("span", { class: "option-key", "aria-hidden": "true", text: letter(j) }),
        h("span", { class: "visually-hidden", text: label }),
      ),
    ),
  );
  const body = t.matrix.map((row, i) =>
    h(
      "tr",
      {},
      h(
        "th",
        { scope: "row", class: "row-label" },
        h("span", { class: "option-key", "aria-hidden": "true", text: letter(i) }),
        h("span", { text: fromLabels[i] }),
      ),
      row.map((count, j) => {
        const cell = h("td", {
          class: `matrix-cell heat-${heat(count, most)}${i === j ? " is-same" : ""}`,
          "data-testid": "transition-cell",
          "data-from": i,
          "data-to": j,
          text: formatNumber(count),
        });
        cell.setAttribute(
          "aria-label",
          interpolate(
            gettext("%(from)s to %(to)s: %(count)s"),
            {
              from: fromLabels[i],
              to: toLabels[j],
              count: plural(count, ngettext("%s participant", "%s participants", count)),
            },
            true,
          ),
        );
        return cell;
      }),
    ),
  );
  const summary = interpolate(
    ngettext(
      "%(who)s answered both rounds; %(changed)s changed their answer.",
      "%(who)s answered both rounds; %(changed)s changed their answer.",
      t.participants,
    ),
    {
      who: plural(t.participants, ngettext("%s participant", "%s participants", t.participants)),
      changed: formatNumber(t.changed),
    },
    true,
  );
  const flow = flowDrawing(
    t.matrix,
    fromLabels.map((_, i) => letter(i)),
    toLabels.map((_, j) => letter(j)),
  );
  return h(
    "section",
    { class: "compare compare-transitions", "data-testid": "transitions", "aria-label": gettext("How answers changed") },
    heading(
      level,
      { class: "compare-title" },
      interpolate(gettext("How answers moved from %(from)s to %(to)s"), { from: fromInText, to: toInText }, true),
    ),
    h("p", { class: "compare-summary", "data-testid": "transition-summary", text: summary }),
    h(
      "div",
      { class: "transition-views" },
      h(
        "div",
        { class: "table-scroll" },
        h(
          "table",
          { class: "compare-table matrix-table", "data-testid": "transition-matrix" },
          h("caption", {
            class: "visually-hidden",
            text: interpolate(
              gettext(
                "Participants by their %(from)s answer (rows) and %(to)s answer (columns); only those who answered both rounds",
              ),
              { from: fromInText, to: toInText },
              true,
            ),
          }),
          h("thead", {}, head),
          h("tbody", {}, body),
        ),
      ),
      flow ? h("div", { class: "flow-box" }, flow) : null,
    ),
  );
}

// ------------------------------------------------------- panel and audience

function concordanceFigures(poll, results, preferred) {
  const c = results.concordance || {};
  const figures = [];
  if (c.preferred && preferred) {
    // Multiple choice: only ballots that ticked preferred options and nothing else agree (said so).
    const text =
      poll.kind === "multi"
        ? gettext("of the audience chose only preferred answers (nothing else ticked)")
        : gettext("of the audience chose the preferred answer");
    figures.push(["preferred", c.preferred, text]);
  }
  if (c.panel_majority && shownPanel(results)) {
    const text =
      poll.kind === "multi"
        ? gettext("of the audience chose only the panel\u2019s majority answers")
        : gettext("of the audience chose the panel\u2019s majority answer");
    figures.push(["panel", c.panel_majority, text]);
  }
  if (!figures.length) return null;
  return h(
    "div",
    { class: "concordance", "data-testid": "concordance" },
    figures.map(([name, figure, text]) =>
      h(
        "p",
        { class: "concordance-figure", "data-testid": `concordance-${name}` },
        h("span", { class: "concordance-value", text: formatPercent(Math.round(100 * figure.share)) }),
        h("span", { class: "concordance-text", text: ` ${text}` }),
        h("span", {
          class: "concordance-count",
          text: interpolate(
            gettext(" (%(agreeing)s of %(total)s)"),
            { agreeing: formatNumber(figure.agreeing), total: formatNumber(results.total) },
            true,
          ),
        }),
      ),
    ),
  );
}

// ------------------------------------------------------------------ entry

/**
 * Rounds, transitions, panel versus audience and concordance for `results` of `poll`, in
 * `container`. Returns true when there was anything to show.
 */
export function renderComparisons(container, poll, results, { level = 3, showHiddenPreferred = false } = {}) {
  const preferred = poll && results ? preferredIds(poll, { showHiddenPreferred }) : null;
  const key =
    poll && results
      ? [
          poll,
          results.rounds,
          results.transitions,
          results.panel,
          results.concordance,
          results.counts,
          results.total,
          showHiddenPreferred,
        ]
      : null;
  const rounds = results && Array.isArray(results.rounds) && results.rounds.length > 1;
  const panel = results && shownPanel(results) && CHOICE_KINDS.has(poll.kind);
  const hasAny = Boolean(poll && results && (rounds || results.transitions || panel || results.concordance));
  if (!changed(container, hasAny ? key : null)) return container.childElementCount > 0;
  if (!hasAny) {
    container.replaceChildren();
    return false;
  }
  const parts = [];
  if (rounds || panel) parts.push(compareSection(poll, results, preferred, level));
  const figures = CHOICE_KINDS.has(poll.kind) ? concordanceFigures(poll, results, preferred) : null;
  if (figures) parts.push(figures);
  if (results.transitions && results.transitions.matrix) parts.push(transitionsSection(poll, results, level));
  container.replaceChildren(...parts);
  return parts.length > 0;
}

// ---------------------------------------------------------------- segments

/** A segment's heading: its profile answer, or what the merged and suppressed groups are. */
export function segmentName(entry) {
  if (entry.segment === "other")
    return entry.suppressed ? gettext("Other (too few to show)") : gettext("Other (smaller groups combined)");
  if (entry.segment === "not stated") return gettext("Not stated");
  return entry.segment;
}

function segmentBody(poll, entry) {
  if (entry.suppressed) {
    return h("p", {
      class: "segment-note",
      text: gettext("Hidden to protect privacy: fewer respondents than the minimum group size."),
    });
  }
  if (!entry.counts || !CHOICE_KINDS.has(poll.kind)) return null;
  const items = poll.options.map((option) => {
    const n = entry.counts[String(option.id)] || 0;
    const pct = percent(n, entry.total);
    return h(
      "li",
      {
        class: "segment-row",
        "aria-label": interpolate(
          gettext("%(label)s: %(percent)s, %(votes)s"),
          { label: option.label, percent: formatPercent(pct), votes: plural(n, ngettext("%s vote", "%s votes", n)) },
          true,
        ),
      },
      h("span", { class: "segment-option", text: option.label }),
      h("span", { class: "segment-value", text: formatPercent(pct) }),
      bar(pct, "fill-now"),
    );
  });
  const mean =
    poll.kind === "likert" && entry.total
      ? h("p", {
          class: "segment-note",
          text: interpolate(
            gettext("Mean %(mean)s of %(points)s"),
            { mean: num(scaleMean(poll, entry.counts, entry.total)), points: formatNumber(poll.options.length) },
            true,
          ),
        })
      : null;
  return [h("ul", { class: "segment-rows" }, items), mean];
}

/** The mean point of a rating scale (first option = 1) from `counts` per option id over `total`. */
export function scaleMean(poll, counts, total) {
  const sum = poll.options.reduce((acc, o, i) => acc + (i + 1) * (counts[String(o.id)] || 0), 0);
  return sum / total;
}

/** Small multiples: one card per segment of `entries` (already small-cell suppressed by the server). */
export function renderSegments(container, poll, entries, { label = "", level = 3 } = {}) {
  if (!changed(container, [poll && poll.id, poll && poll.options, entries, label])) return;
  if (!poll || !entries) {
    container.replaceChildren();
    return;
  }
  const cards = entries.map((entry) =>
    h(
      "li",
      {
        class: `segment-card${entry.suppressed ? " is-suppressed" : ""}${entry.segment === "other" ? " is-other" : ""}`,
        "data-testid": "segment",
        "data-segment": entry.segment,
      },
      heading(level + 1, { class: "segment-title" }, segmentName(entry)),
      h("p", {
        class: "segment-total",
        "data-testid": "segment-total",
        text: plural(entry.total, ngettext("%s response", "%s responses", entry.total)),
      }),
      segmentBody(poll, entry),
    ),
  );
  container.replaceChildren(
    heading(
      level,
      { class: "compare-title" },
      label ? interpolate(gettext("By %s"), [label.toLowerCase()]) : gettext("By profile"),
    ),
    entries.length
      ? h("ul", { class: "segment-grid", "data-testid": "segment-grid" }, cards)
      : h("p", { class: "quiet", text: gettext("No responses to split yet.") }),
  );
}
