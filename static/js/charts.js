// Results of every poll kind (docs/protocol.md, `results`): used by the presenter, the console
// and phones, from 360 px up to a projector. Rows go into the given list; summaries (scale mean
// and median, numeric statistics, the word cloud, the preferred answer's rationale) go into a
// companion block placed right after the list.

import { changed, forget, h, num, optionLabel, percent, plural } from "./dom.js";
import { formatNumber, formatPercent, gettext, interpolate, ngettext } from "./i18n.js";

const CLOUD_SIZES = 5;

/** The kinds whose ballots choose among the options, so their results have `counts` per option. */
export const CHOICE_KINDS = new Set(["single", "multi", "likert", "ranking"]);

// ------------------------------------------------------------- containers

const companions = new WeakMap();

function listFor(target) {
  if (target.tagName === "UL" || target.tagName === "OL") return target;
  let list = target.querySelector(":scope > .results");
  if (!list) {
    list = h("ul", { class: "results" });
    target.prepend(list);
  }
  return list;
}

/** The block after the list that holds a kind's summary; re-created if a page replaced it. */
function extraFor(list) {
  let extra = companions.get(list);
  if (!extra || !extra.isConnected || extra.previousElementSibling !== list) {
    if (extra) extra.remove();
    extra = h("div", { class: "results-extra", "data-testid": "results-extra" });
    if (list.parentNode) list.after(extra);
    companions.set(list, extra);
    forget(list); // the list's rows may be current, but the new block is empty: render both again
  }
  return extra;
}

/** The preferred option ids to highlight, or null (hidden ones only for the moderator). */
export function preferredIds(poll, { showHiddenPreferred = false } = {}) {
  const preferred = poll.preferred;
  if (!preferred || !preferred.options || !preferred.options.length) return null;
  if (preferred.revealed === false && !showHiddenPreferred) return null;
  return new Set(preferred.options.map(String));
}

function preferredNote(poll, ids) {
  if (!ids) return null;
  const labels = poll.options.filter((o) => ids.has(String(o.id))).map((o) => o.label);
  const hidden = poll.preferred.revealed === false;
  return h(
    "div",
    { class: `preferred-note${hidden ? " is-hidden-from-room" : ""}`, "data-testid": "preferred-note" },
    h(
      "p",
      { class: "preferred-title" },
      h("span", { class: "tag tag-preferred", text: gettext("Preferred") }),
      labels.join(", "),
    ),
    poll.preferred.rationale ? h("p", { class: "preferred-rationale", text: poll.preferred.rationale }) : null,
    hidden ? h("p", { class: "quiet", text: gettext("Not shown to the room yet.") }) : null,
  );
}

function confidenceText(entry) {
  return entry && entry.n ? interpolate(gettext("confidence %s/5"), [num(entry.mean)]) : "";
}

function overallConfidence(results) {
  const all = results.confidence && results.confidence.all;
  if (!all || !all.n) return null;
  return h("p", {
    class: "confidence-summary",
    "data-testid": "confidence-summary",
    text: interpolate(ngettext("Mean confidence %(mean)s/5 (%(n)s answer rated)", "Mean confidence %(mean)s/5 (%(n)s answers rated)", all.n), { mean: num(all.mean), n: formatNumber(all.n) }, true),
  });
}

// ------------------------------------------------------- one bar per option

function barRow(attrs, label) {
  return h(
    "li",
    { class: "result-row", "data-testid": "result-row", ...attrs },
    h(
      "span",
      { class: "result-line" },
      h("span", { class: "result-label", "data-testid": "result-label", text: label }),
      h("span", { class: "result-percent", "data-testid": "result-percent" }),
    ),
    h("span", { class: "result-bar", "aria-hidden": "true" }, h("span", { class: "result-fill" })),
    h("span", { class: "result-meta", "data-testid": "result-meta", hidden: true }),
  );
}

function setMeta(row, parts) {
  const meta = row.querySelector(".result-meta");
  const shown = parts.filter(Boolean);
  meta.replaceChildren(
    ...shown.map((part) =>
      part === gettext("Preferred") ? h("span", { class: "tag tag-preferred", text: part }) : h("span", { text: part }),
    ),
  );
  meta.hidden = shown.length === 0;
}

/**
 * One bar per option, in the poll's order: its votes and rounded share of `results.total` (a
 * multi-choice ballot counts once per option, so shares may add up to more than 100), whether it
 * is the most chosen (every tied one is), the viewer's (`mine`, option ids) or a `preferred` one
 * (string ids), its mean confidence, and what a screen reader says for the row.
 */
export function choiceBars(poll, results, { mine = new Set(), preferred = null } = {}) {
  const total = results.total || 0;
  const counts = results.counts || {};
  const confidence = results.confidence || {};
  const top = Math.max(0, ...poll.options.map((o) => counts[String(o.id)] || 0));
  return poll.options.map((option) => {
    const count = counts[String(option.id)] || 0;
    const pct = percent(count, total);
    const isPreferred = Boolean(preferred && preferred.has(String(option.id)));
    const conf = confidenceText(confidence[String(option.id)]);
    const said = [
      interpolate(gettext("%(label)s: %(percent)s, %(votes)s"), { label: option.label, percent: formatPercent(pct), votes: plural(count, ngettext("%s vote", "%s votes", count)) }, true),
    ];
    if (isPreferred) said.push(gettext("preferred answer"));
    if (conf) said.push(conf);
    return {
      option,
      count,
      pct,
      isTop: count > 0 && count === top,
      isMine: mine.has(option.id),
      isPreferred,
      meta: [isPreferred ? gettext("Preferred") : "", conf],
      said: said.join(", "),
    };
  });
}

function renderChoices(list, poll, results, { mine, preferred }) {
  const key = `${poll.kind}:${poll.options.map((o) => o.id).join(",")}`;
  if (list.dataset.options !== key) {
    list.replaceChildren(
      ...poll.options.map((o, i) => barRow({ "data-option-id": o.id, "data-point": i + 1 }, o.label)),
    );
    list.dataset.options = key;
  }
  const bars = choiceBars(poll, results, { mine, preferred });
  list.querySelectorAll(":scope > .result-row").forEach((row, index) => {
    const bar = bars[index];
    row.querySelector(".result-percent").textContent = `${formatPercent(bar.pct)} (${formatNumber(bar.count)})`;
    row.querySelector(".result-fill").style.width = `${bar.pct}%`;
    row.classList.toggle("is-top", bar.isTop);
    row.classList.toggle("is-mine", bar.isMine);
    row.classList.toggle("is-preferred", bar.isPreferred);
    setMeta(row, bar.meta);
    row.setAttribute("aria-label", bar.said);
  });
}

// ------------------------------------------------------------------ scale

/** Where `value` sits on a 1..`points` scale, in percent of its width (the middle for one point). */
export function scalePosition(value, points) {
  return points > 1 ? ((value - 1) / (points - 1)) * 100 : 50;
}

// The markers' words (kind is also their class name).
const MARKER_WORD = { median: () => gettext("median"), mean: () => gettext("mean") };

function scaleMarker(kind, value, points) {
  const marker = h(
    "span",
    { class: `scale-marker scale-${kind}` },
    h("span", { class: "scale-marker-label", text: `${MARKER_WORD[kind]()} ${num(value)}` }),
  );
  const position = scalePosition(value, points);
  marker.style.left = `${position}%`;
  marker.classList.toggle("is-right", position > 60); // the label then ends at the line
  return marker;
}

function scaleSummary(poll, scale) {
  const points = scale.points || poll.options.length;
  if (scale.mean === null || scale.mean === undefined) {
    return h("p", { class: "scale-summary quiet", "data-testid": "scale-summary", text: gettext("No ratings yet.") });
  }
  const label = (value) => {
    const option = poll.options[Math.round(value) - 1];
    return option && Number.isInteger(Number(value)) ? interpolate(gettext(" (%s)"), [option.label]) : "";
  };
  const first = poll.options[0] ? poll.options[0].label : formatNumber(1);
  const last = poll.options[points - 1] ? poll.options[points - 1].label : formatNumber(points);
  const caption = interpolate(
    gettext("Mean %(mean)s and median %(median)s%(label)s on a %(points)s-point scale (1 = %(first)s, %(points)s = %(last)s)."),
    { mean: num(scale.mean), median: num(scale.median), label: label(scale.median), points: formatNumber(points), first, last },
    true,
  );
  const ticks = Array.from({ length: points }, (_, i) => h("li", { text: formatNumber(i + 1) }));
  return h(
    "figure",
    { class: "scale-summary", "data-testid": "scale-summary" },
    h(
      "div",
      { class: "scale-axis", "aria-hidden": "true" },
      h("ol", { class: "scale-ticks" }, ticks),
      h("span", { class: "scale-track" }),
      scaleMarker("median", scale.median, points),
      scaleMarker("mean", scale.mean, points),
      h("span", { class: "scale-end scale-end-low", text: first }),
      h("span", { class: "scale-end scale-end-high", text: last }),
    ),
    h("figcaption", { class: "scale-caption", "data-testid": "scale-caption", text: caption }),
  );
}

// ---------------------------------------------------------------- numeric

function binLabel(bin) {
  return Number(bin.from) === Number(bin.to) ? num(bin.from) : `${num(bin.from)}\u2013${num(bin.to)}`;
}

/**
 * One bar per histogram bin of a numeric poll's `stats`: its label ("4–6", or "5" for a bin of
 * one value), count, share of all answers, bar length as that share (`width` in percent, so a
 * bar of 40% means 40% of the answers, as on every other chart), the column height against the
 * fullest bin (`share` 0..1, the projector's upright columns), and whether it holds the median
 * or the viewer's own answer `myValue`.
 */
export function histogramBars(stats, unit = "", myValue = null) {
  const bins = stats.histogram || [];
  const n = stats.n || 0;
  const most = Math.max(1, ...bins.map((b) => b.count));
  const medianIndex = stats.median === null || stats.median === undefined ? -1 : binIndex(bins, stats.median);
  const myIndex = typeof myValue === "number" ? binIndex(bins, myValue) : -1;
  return bins.map((bin, index) => ({
    label: binLabel(bin),
    count: bin.count,
    pct: percent(bin.count, n),
    width: n ? (100 * bin.count) / n : 0,
    share: bin.count / most,
    isMedian: index === medianIndex,
    isMine: index === myIndex,
    said: `${binLabel(bin)}${unit ? ` ${unit}` : ""}: ${plural(bin.count, ngettext("%s answer", "%s answers", bin.count))}`,
  }));
}

function renderNumeric(list, extra, poll, results, { myValue }) {
  const stats = results.numeric || { n: 0, histogram: [] };
  const unit = stats.unit || (poll.numeric && poll.numeric.unit) || "";
  const n = stats.n || 0;
  list.setAttribute("aria-label", unit ? interpolate(gettext("Answers in %s by range"), [unit]) : gettext("Answers by range"));
  list.replaceChildren(
    ...histogramBars(stats, unit, myValue).map((bar, index) => {
      const row = barRow({ "data-testid": "histogram-bin", "data-bin": index }, bar.label);
      row.querySelector(".result-percent").textContent = `${formatPercent(bar.pct)} (${formatNumber(bar.count)})`;
      const fill = row.querySelector(".result-fill");
      fill.style.width = `${bar.width}%`;
      fill.style.setProperty("--share", String(bar.share));
      row.classList.toggle("is-median", bar.isMedian);
      row.classList.toggle("is-mine", bar.isMine);
      setMeta(row, [bar.isMedian ? gettext("median") : ""]);
      row.setAttribute("aria-label", bar.said);
      return row;
    }),
  );
  const facts = n
    ? [
        [gettext("Median"), `${num(stats.median)}${unit ? ` ${unit}` : ""}`, "numeric-median"],
        [gettext("Mean"), num(stats.mean), "numeric-mean"],
        [gettext("Range"), `${num(stats.min)}\u2013${num(stats.max)}`, "numeric-range"],
        [gettext("Answers"), `n = ${formatNumber(n)}`, "numeric-n"],
      ]
    : [];
  if (n && unit) extra.append(h("p", { class: "quiet histogram-caption", text: interpolate(gettext("Ranges in %s."), [unit]) }));
  extra.append(
    n
      ? h(
          "dl",
          { class: "numeric-summary", "data-testid": "numeric-summary" },
          facts.map(([term, value, testid]) =>
            h("div", { class: "stat" }, h("dt", { text: term }), h("dd", { "data-testid": testid, text: value })),
          ),
        )
      : h("p", { class: "quiet", "data-testid": "numeric-summary", text: gettext("No answers yet.") }),
  );
}

/** The bin holding `value` (bins are [from, to); a value at the top edge belongs to the last). */
function binIndex(bins, value) {
  const index = bins.findIndex((b) => value >= b.from && value < b.to);
  return index >= 0 ? index : bins.length - 1;
}

// ------------------------------------------------------------------- text

/**
 * The cloud's words in alphabetical order, each with a size from 1 (the rarest) to CLOUD_SIZES
 * (the most frequent), linear in its count; every word is mid-sized when all counts are equal.
 */
export function cloudWords(words) {
  const most = Math.max(...words.map((w) => w.count));
  const least = Math.min(...words.map((w) => w.count));
  return [...words]
    .sort((a, b) => a.word.localeCompare(b.word))
    .map((w) => ({
      word: w.word,
      count: w.count,
      size: most === least ? 3 : 1 + Math.round(((w.count - least) / (most - least)) * (CLOUD_SIZES - 1)),
    }));
}

function cloud(words) {
  if (!words.length) return h("p", { class: "quiet", "data-testid": "word-cloud", text: gettext("No words yet.") });
  return h(
    "ul",
    { class: "word-cloud", "data-testid": "word-cloud", "aria-label": gettext("Word cloud of approved answers") },
    cloudWords(words).map((w) =>
      h(
        "li",
        { class: `cloud-word cloud-size-${w.size}`, "data-testid": "cloud-word", "data-count": w.count },
        w.word,
        h("span", { class: "visually-hidden", text: ` (${formatNumber(w.count)})` }),
      ),
    ),
  );
}

function renderText(list, extra, results, { textView }) {
  const approved = (results.answers || []).filter((a) => !a.status || a.status === "approved");
  list.setAttribute("aria-label", gettext("Approved answers"));
  list.replaceChildren(
    ...(textView === "cloud" ? [] : approved).map((answer) =>
      h("li", { class: "answer", "data-testid": "answer", "data-answer-id": answer.id, text: answer.text }),
    ),
  );
  if (textView !== "cloud" && !approved.length) {
    extra.append(h("p", { class: "quiet", "data-testid": "no-answers", text: gettext("No answers shown yet.") }));
  }
  if (textView !== "list") extra.append(cloud(results.words || []));
}

// ---------------------------------------------------------------- ranking

/**
 * One bar per entry of `results.ranking`, in the server's order (best Borda score first): its
 * place, label, score, bar length against the most any option could score (first place on every
 * ranking: n − 1 points each), its mean rank, and whether it leads or is `preferred`.
 */
export function rankingBars(poll, results, preferred = null) {
  const total = results.total || 0;
  const best = Math.max(1, (poll.options.length - 1) * total);
  return (results.ranking || []).map((entry, index) => {
    const label = optionLabel(poll, entry.option);
    const mean =
      entry.mean_rank === null ? gettext("not ranked yet") : interpolate(gettext("mean rank %s"), [num(entry.mean_rank)]);
    const isPreferred = Boolean(preferred && preferred.has(String(entry.option)));
    return {
      option: entry.option,
      place: index + 1,
      label,
      borda: entry.borda,
      width: (100 * entry.borda) / best,
      mean,
      isTop: index === 0 && total > 0,
      isPreferred,
      meta: [isPreferred ? gettext("Preferred") : "", mean],
      said: interpolate(
        gettext("%(place)s. %(label)s: Borda score %(borda)s, %(mean)s"),
        { place: formatNumber(index + 1), label, borda: formatNumber(entry.borda), mean },
        true,
      ),
    };
  });
}

function renderRanking(list, extra, poll, results, { preferred }) {
  const total = results.total || 0;
  const n = poll.options.length;
  list.setAttribute("aria-label", gettext("Options ranked by Borda score"));
  list.replaceChildren(
    ...rankingBars(poll, results, preferred).map((bar) => {
      const row = barRow(
        { "data-option-id": bar.option, "data-testid": "ranking-row", "data-rank": bar.place },
        bar.label,
      );
      row.querySelector(".result-line").prepend(h("span", { class: "rank-position", text: formatNumber(bar.place) }));
      const score = row.querySelector(".result-percent");
      score.textContent = interpolate(gettext("Borda %s"), [formatNumber(bar.borda)]);
      score.dataset.testid = "rank-borda";
      row.querySelector(".result-fill").style.width = `${bar.width}%`;
      row.classList.toggle("is-top", bar.isTop);
      row.classList.toggle("is-preferred", bar.isPreferred);
      setMeta(row, bar.meta);
      row.setAttribute("aria-label", bar.said);
      return row;
    }),
  );
  const points = plural(n - 1, ngettext("%s point", "%s points", n - 1));
  const rankings = plural(total, ngettext("%s ranking", "%s rankings", total));
  extra.append(
    h("p", {
      class: "quiet ranking-note",
      text: interpolate(
        gettext("Borda score: %(points)s for a first place down to 0 for the last, added up over %(rankings)s."),
        { points, rankings },
        true,
      ),
    }),
  );
}

// ----------------------------------------------------------------- entry

/**
 * Show `results` of `poll` in `target` (a list, or a block that gets one), every kind.
 * Options: `mine` (set of option ids voted by this screen's user), `myValue` (their numeric
 * answer), `textView` ("both", "list" or "cloud" for free text), `showHiddenPreferred` (the
 * moderator sees the preferred answer before the room does), `rationale` (false: highlight the
 * preferred options without repeating the rationale, for a page that shows it elsewhere).
 * Choice rows are updated in place when the options are unchanged, so bars animate.
 */
export function renderResults(target, poll, results, options = {}) {
  const {
    mine = new Set(),
    myValue = null,
    textView = "both",
    showHiddenPreferred = false,
    rationale = true,
  } = options;
  const list = listFor(target);
  const extra = extraFor(list);
  const kind = poll.kind || "single";
  if (list.dataset.kind !== kind) {
    list.replaceChildren();
    delete list.dataset.options;
    list.removeAttribute("aria-label");
    list.dataset.kind = kind;
    forget(list);
  }
  const preferred = preferredIds(poll, { showHiddenPreferred });
  if (kind === "single" || kind === "multi" || kind === "likert") {
    renderChoices(list, poll, results, { mine, preferred });
    const key = [kind, results.scale, poll.preferred, preferred && [...preferred], poll.max_choices, rationale];
    if (!changed(extra, key)) return;
    extra.replaceChildren();
    if (kind === "likert" && results.scale) extra.append(scaleSummary(poll, results.scale));
    if (kind === "multi" && poll.max_choices > 1) {
      extra.append(
        h("p", {
          class: "quiet",
          text: interpolate(gettext("People could choose more than one answer: shares add up to more than %s."), [
            formatPercent(100),
          ]),
        }),
      );
    }
  } else {
    const key = [kind, results, poll.options, poll.preferred, textView, [...mine], myValue, showHiddenPreferred];
    if (!changed(list, [...key, rationale])) return;
    forget(extra);
    extra.replaceChildren();
    if (kind === "numeric") renderNumeric(list, extra, poll, results, { myValue });
    else if (kind === "text") renderText(list, extra, results, { textView });
    else if (kind === "ranking") renderRanking(list, extra, poll, results, { preferred });
    const confidence = overallConfidence(results);
    if (confidence) extra.append(confidence);
  }
  const note = rationale ? preferredNote(poll, preferred) : null;
  if (note) extra.append(note);
}
