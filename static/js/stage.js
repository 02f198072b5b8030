// What the projector shows (one focus at a time) and how big: shared by the presenter, which
// draws it, and the console, whose "On screen now" names exactly the same thing; and the poll body
// the projector draws (shared with the authoring preview).

import { h, num } from "./dom.js";
import { formatNumber, gettext, interpolate, ngettext } from "./i18n.js";

/** The screens a moderator can choose (event.screen), in the order the console offers them. */
export const SCREENS = ["disclosures", "join", "case", "poll", "teaching", "questions", "blank"];

/** What each screen is called on the console. */
export const SCREEN_TEXT = {
  disclosures: gettext("Disclosures"),
  join: gettext("Join screen"),
  case: gettext("Case"),
  poll: gettext("Poll"),
  teaching: gettext("Teaching points"),
  questions: gettext("Audience questions"),
  blank: gettext("Blank"),
  ended: gettext("Event ended"),
};

/**
 * The one thing the projector shows for a `state` frame: the moderator's choice
 * (`event.screen`), falling back to what exists when it has nothing to show (a poll screen
 * without a poll shows the case, or else the join screen). An ended event shows its closing
 * screen, whatever was up.
 */
export function stageScreen(state) {
  if (!state || !state.event) return "join";
  if (state.event.status === "ended") return "ended";
  const wanted = state.event.screen || "join";
  const points = state.teaching_points || [];
  const fallback = state.case ? "case" : "join";
  if (wanted === "case") return state.case ? "case" : "join";
  if (wanted === "poll") return state.poll ? "poll" : fallback;
  if (wanted === "teaching") return points.length ? "teaching" : fallback;
  return SCREENS.includes(wanted) ? wanted : "join";
}

/** The teaching point the teaching screen shows: the event's choice, or else the last revealed; and its place. */
export function stagePoint(state) {
  const points = (state && state.teaching_points) || [];
  if (!points.length) return null;
  const chosen = points.findIndex((p) => p.id === state.event.teaching_point);
  const index = chosen >= 0 ? chosen : points.length - 1;
  return { point: points[index], index, count: points.length };
}

/** A sentence for the console: what the room sees now. */
export function screenDescription(state) {
  const screen = stageScreen(state);
  if (screen === "case") return interpolate(gettext("The case: %s"), [state.case.title]);
  if (screen === "poll") {
    const poll = state.poll;
    let format = gettext("The poll: “%s”");
    if (poll.results_visible) format = gettext("The results of “%s”");
    else if (poll.state === "draft") format = gettext("The not yet open: “%s”");
    return interpolate(format, [poll.question]);
  }
  if (screen === "teaching") {
    const { point, index, count } = stagePoint(state);
    return interpolate(
      gettext("Teaching point %(index)s of %(count)s: %(title)s"),
      { index: formatNumber(index + 1), count: formatNumber(count), title: point.title },
      true,
    );
  }
  if (screen === "questions") return gettext("Audience questions: the pinned one and the top by votes");
  if (screen === "join") return gettext("The join screen: code and QR");
  if (screen === "disclosures") return gettext("The faculty's disclosures");
  if (screen === "blank") return gettext("Nothing: the screen is blank");
  return gettext("The event has ended: the thank-you screen");
}

/**
 * The largest scale in [min, max] at which `fits(scale)` holds, by bisection (`steps` halvings);
 * `min` when nothing fits. `fits` must be monotone: true at a scale means true below it.
 */
export function fitScale(fits, { min = 0.3, max = 1, steps = 8 } = {}) {
  if (fits(max)) return max;
  let low = min;
  let high = max;
  for (let i = 0; i < steps; i += 1) {
    const mid = (low + high) / 2;
    if (fits(mid)) low = mid;
    else high = mid;
  }
  return low;
}

/** Where the blank key (B or .) goes back to: the poll, else the case, else the join screen. */
export function unblankScreen(state) {
  if (state && state.poll) return "poll";
  if (state && state.case) return "case";
  return "join";
}

/** The clicker's keys: next, back and blank, or null for any other key (or with a modifier held). */
export function clickerAction(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return null;
  if (["ArrowRight", "PageDown"].includes(event.key)) return "next";
  if (["ArrowLeft", "PageUp"].includes(event.key)) return "back";
  if (["b", "B", "."].includes(event.key)) return "blank";
  return null;
}

/** What the projector says a poll asks for, by its kind. */
export function questionHint(poll) {
  if (poll.kind === "numeric") {
    const range = poll.numeric || {};
    const unit = range.unit ? ` ${range.unit}` : "";
    if (range.min !== null && range.min !== undefined && range.max !== null && range.max !== undefined) {
      return interpolate(
        gettext("Answer with a number from %(min)s to %(max)s%(unit)s on your phone."),
        { min: num(range.min, 6), max: num(range.max, 6), unit },
        true,
      );
    }
    return range.unit
      ? interpolate(gettext("Answer with a number (%s) on your phone."), [range.unit])
      : gettext("Answer with a number on your phone.");
  }
  if (poll.kind === "text")
    return gettext("Answer in a few words on your phone. The moderator chooses which answers appear here.");
  if (poll.kind === "ranking") return gettext("Put these in order on your phone, best first.");
  if (poll.kind === "multi") {
    const most = poll.max_choices || poll.options.length;
    return interpolate(ngettext("Choose up to %s on your phone.", "Choose up to %s on your phone.", most), [
      formatNumber(most),
    ]);
  }
  return "";
}

/** The projector's body of a poll before its results: the hint and the lettered answers. Shared
 * by the presenter and the authoring workspace's preview, so the preview is the stage itself. */
export function stagePollBody(poll) {
  const hint = questionHint(poll);
  const items = poll.options.map((option, index) =>
    h(
      "li",
      { class: "stage-option" },
      h("span", { class: "stage-option-key", "aria-hidden": "true", text: String.fromCharCode(65 + (index % 26)) }),
      h("span", { text: option.label }),
    ),
  );
  return [
    hint ? h("p", { class: "stage-hint", "data-testid": "stage-hint", text: hint }) : "",
    items.length
      ? h(poll.kind === "ranking" ? "ul" : "ol", { class: "stage-option-list", "aria-label": gettext("Answers") }, items)
      : "",
  ];
}

/**
 * What the projector has in focus, as a short key: the screen and the thing on it. A focus split
 * into pages (`event.page`, reported by the projector) belongs to this key; when the key changes,
 * the pages start again.
 */
export function stageFocusKey(state) {
  const screen = stageScreen(state);
  if (screen === "case") return `case:${state.case.id}`;
  if (screen === "poll") return `poll:${state.poll.id}:${state.poll.results_visible ? "results" : "question"}`;
  if (screen === "teaching") return `teaching:${stagePoint(state).point.id}`;
  return screen;
}

/** The page of the focus that is up (0-based) and how many it has, as far as the server knows. */
export function stagePage(state) {
  const page = state && state.event && state.event.page;
  if (!page || !page.focus || page.focus !== stageFocusKey(state)) return { index: 0, count: 1 };
  const count = Math.max(1, page.count || 1);
  return { index: Math.min(Math.max(0, page.index || 0), count - 1), count };
}

/** "Page 2 of 3" for a focus split into pages, "" for one that fits on one. */
export function pageText({ index, count }) {
  return count > 1
    ? interpolate(
        gettext("Page %(page)s of %(count)s"),
        { page: formatNumber(index + 1), count: formatNumber(count) },
        true,
      )
    : "";
}

/**
 * Split `units` (in reading order) into pages: the longest runs that `fitsRun(start, end)` holds
 * for, each at least one unit, a heading never left last on a page when more follow it.
 * Returns [start, end) pairs.
 */
export function packPages(units, fitsRun, isHeading = () => false) {
  const pages = [];
  let start = 0;
  while (start < units.length) {
    let end = start + 1;
    while (end < units.length && fitsRun(start, end + 1)) end += 1;
    while (end - 1 > start && end < units.length && isHeading(units[end - 1])) end -= 1;
    pages.push([start, end]);
    start = end;
  }
  return pages;
}
