// The projector screen: one focus at a time (event.screen, see stage.js), scaled to fit any
// screen: the join details, the case (with facts revealed as the discussion goes), a poll with
// its live response count and countdown, results of every kind once revealed, rounds and
// transitions, panel versus audience, the profile split the moderator chose, teaching points.

import { renderComparisons, renderSegments } from "./comparisons.js";
import { formatNumber, gettext, interpolate, ngettext } from "./i18n.js";
import { attachQuestions } from "./questions.js";
import { LiveConnection, newRef, readConfig } from "./live.js";
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
  setStatusPill,
  show,
  syncClock,
} from "./render.js";
import { watchPresence } from "./presence.js";
import {
  clickerAction,
  fitScale,
  packPages,
  pageText,
  stageFocusKey,
  stagePage,
  stagePoint,
  stagePollBody,
  stageScreen,
  unblankScreen,
} from "./stage.js";

const config = readConfig();
// `?theme=dark` (or light) shows this screen in that theme whatever the event's: a preview of the other one.
const FORCED_THEME = ["light", "dark"].find((t) => t === new URLSearchParams(window.location.search).get("theme"));
const ui = {
  status: byTestId("connection-status"),
  stage: byTestId("stage"),
  welcome: byTestId("welcome"),
  welcomeHeading: byTestId("welcome-heading"),
  waitingText: byTestId("waiting-text"),
  caseSection: byTestId("case"),
  caseCard: byTestId("case-card"),
  poll: byTestId("poll"),
  context: byTestId("poll-context"),
  pollState: byTestId("poll-state"),
  question: byTestId("poll-question"),
  count: byTestId("response-count"),
  countdown: byTestId("countdown"),
  results: byTestId("results"),
  resultsList: byTestId("results-list"),
  textToggle: byTestId("text-view-toggle"),
  comparisons: byTestId("comparisons"),
  segments: byTestId("segments"),
  options: byTestId("poll-options"),
  teaching: byTestId("teaching-points"),
  teachingList: byTestId("teaching-list"),
  teachingHeading: byTestId("teaching-heading"),
  blank: byTestId("blank"),
  page: byTestId("stage-page"),
};
const slides = [...ui.stage.querySelectorAll(".stage-slide")];

let state = null;
let textView = "list";
let eventTextView = null; // the console's choice (event.text_view); the buttons here override it until it changes
const seenFacts = new Map(); // case id -> fact ids already on screen

const live = new LiveConnection(config, {
  onState(next) {
    syncClock(next);
    state = next;
    render();
    presence.refresh();
  },
  onResults: () => {
    renderPoll();
    presence.render();
    fit();
  },
  onStatus: (status) => {
    connection = status;
    renderStatus();
  },
});
let connection = "connecting";
const presence = watchPresence(byTestId("presence"), {
  code: config.code,
  liveTotal: (pollId) => {
    const { latest } = live.resultsFor(pollId);
    return latest ? latest.total : null;
  },
});

/** After "End event" the pill no longer says "Live": the event is over, whatever the socket does. */
function renderStatus() {
  const ended = Boolean(state && state.event.status === "ended");
  if (ended && connection === "live") {
    ui.status.dataset.state = "ended";
    ui.status.textContent = gettext("Event ended");
  } else {
    setStatusPill(ui.status, connection);
  }
}

// ------------------------------------------------------------------ fit

const root = document.documentElement;

// Below this scale text is too small for the back of a room (body text, 1rem, under 19 px at
// 1080p): a focus that would need less is split into pages instead, stepped through with next/back.
// Above it, shrinking keeps the whole focus in one view (results with their split, say), which a
// room follows better than pages.
const READABLE_FLOOR = 0.6;
// What a page is made of: the smallest blocks that read on their own. Containers around them
// stay; a unit off the page is taken out of the layout (.off-page).
const UNIT = "p, li, h1, h2, h3, h4, h5, h6, figure, table, .fact, .compare, .segment, svg, img";
// Kept on every page, like a running head: what the slide is about (and its heading comes first).
const ON_EVERY_PAGE = ".case-header, .stage-context, .stage-poll-head, .stage-question, .view-toggle";
const OFF_PAGE = "off-page";
const reported = new Set(); // focus:pages this projector already told the server

function setFit(scale) {
  root.style.setProperty("--fit", String(scale));
}

function slideFits(slide) {
  return slide.scrollHeight <= slide.clientHeight + 1 && slide.scrollWidth <= slide.clientWidth + 1;
}

/** The slide's page units in reading order: the outermost UNIT elements, or leaves. */
function pageUnits(slide) {
  const units = [];
  const walk = (element) => {
    for (const child of element.children) {
      if (child.hidden || child.matches("script, template") || child.matches(ON_EVERY_PAGE)) continue;
      if (child.matches(UNIT) || child.children.length === 0) units.push(child);
      else walk(child);
    }
  };
  walk(slide);
  return units;
}

function showUnits(units, start, end) {
  units.forEach((unit, i) => unit.classList.toggle(OFF_PAGE, i < start || i >= end));
}

/** Split the slide into pages when it would not fit at the readable floor; show the page the
 * moderator is on. Returns how many pages the focus needs. */
function paginate(slide) {
  for (const unit of slide.querySelectorAll(`.${OFF_PAGE}`)) unit.classList.remove(OFF_PAGE);
  setFit(READABLE_FLOOR);
  if (slideFits(slide)) return 1;
  const units = pageUnits(slide);
  if (units.length < 2) return 1;
  const pages = packPages(
    units,
    (start, end) => {
      showUnits(units, start, end);
      return slideFits(slide);
    },
    (unit) => /^H[1-6]$/.test(unit.tagName),
  );
  const index = Math.min(stagePage(state).index, pages.length - 1);
  showUnits(units, ...pages[index]);
  return pages.length;
}

/** Tell the server how many pages this focus needs here (once per focus and count), so that
 * next/back step through them and the console says "Page 2 of 3". The console's preview does not. */
function reportPages(count) {
  if (!state || window.top !== window.self) return;
  const focus = stageFocusKey(state);
  const known = state.event.page && state.event.page.focus === focus ? state.event.page.count : 1;
  const key = `${focus}:${count}`;
  if (count === known || reported.has(key)) return;
  reported.add(key);
  live.send({ type: "stage_pages", ref: newRef(), focus, pages: count });
}

/** Fit the shown slide to the stage: short content grows a little (no quarter of the screen left
 * empty), long content shrinks down to the readable floor, and past it is split into pages. */
function fit() {
  const slide = slides.find((s) => !s.hidden);
  if (!slide || slide === ui.blank) {
    setFit(1);
    show(ui.page, false);
    return;
  }
  const count = paginate(slide);
  const text = pageText({ index: Math.min(stagePage(state).index, count - 1), count });
  ui.page.textContent = text;
  show(ui.page, Boolean(text));
  // A single unit taller than the stage at the floor still shrinks below it: never clipped.
  const fits = (scale) => {
    setFit(scale);
    return slideFits(slide);
  };
  setFit(fitScale(fits, { min: 0.3, max: 1.25, steps: 9 }));
  reportPages(count);
}

window.addEventListener("resize", () => fit());
if (document.fonts) document.fonts.ready.then(() => fit());

function countText(poll, total) {
  const responses = plural(total, ngettext("%s response", "%s responses", total));
  if (poll.state === "open") return responses;
  if (poll.state === "closed") return interpolate(gettext("Voting closed · %s"), [responses]);
  return gettext("Voting opens soon");
}

function renderOptions(poll) {
  if (!changed(ui.options, [poll.id, poll.kind, poll.options, poll.numeric, poll.max_choices])) return;
  ui.options.replaceChildren(...stagePollBody(poll));
}

function segmentLabel(key) {
  const question = ((state && state.event.profile_questions) || []).find((q) => q.key === key);
  return question ? question.label : key;
}

function renderPoll() {
  const poll = state ? state.poll : null;
  if (changed(ui.countdown, poll ? [poll.id, poll.state, poll.closes_at] : null)) runCountdown(ui.countdown, poll);
  if (!poll) return;
  ui.poll.dataset.state = poll.state;
  ui.poll.dataset.kind = poll.kind;
  ui.pollState.textContent = POLL_STATE_TEXT[poll.state] || poll.state;
  ui.pollState.dataset.state = poll.state;
  ui.question.textContent =
    poll.round > 1
      ? interpolate(
          gettext("%(question)s (round %(round)s)"),
          { question: poll.question, round: formatNumber(poll.round) },
          true,
        )
      : poll.question;
  setLang(ui.question, caseLanguage(state, poll.case));
  // The case's clinical question stays in view while its poll is up.
  const caseData = state.case && state.case.id === poll.case ? state.case : null;
  ui.context.textContent = caseData
    ? [caseData.title, caseData.clinical_question].filter(Boolean).join(" · ")
    : "";
  show(ui.context, Boolean(caseData));
  setLang(ui.context, caseData ? caseData.language : null);

  // `counted` is the newest frame that carries the tally (counts, numbers or answers), or null.
  const { latest, counted: shown } = live.resultsFor(poll.id);
  const revealed = Boolean(poll.results_visible && shown);
  ui.count.textContent = countText(poll, revealed ? shown.total : latest ? latest.total : 0);
  show(ui.results, revealed);
  show(ui.options, !revealed);
  show(ui.textToggle, revealed && poll.kind === "text");
  let compared = false;
  let split = false;
  if (revealed) {
    // With rounds or a panel, the comparison table holds this round's shares too: no second set
    // of bars, and the table comes first (the scale summary and the rationale follow it).
    const table = (Array.isArray(shown.rounds) && shown.rounds.length > 1) || Boolean(shown.panel);
    show(ui.resultsList, !table);
    const tableFirst = Boolean(ui.comparisons.compareDocumentPosition(ui.results) & Node.DOCUMENT_POSITION_FOLLOWING);
    if (table && !tableFirst) ui.comparisons.after(ui.results);
    if (!table && tableFirst) ui.comparisons.before(ui.results);
    renderResults(ui.resultsList, poll, shown, { textView });
    compared = renderComparisons(ui.comparisons, poll, shown, { level: 3 });
    const attribute = state.event.segment;
    const entries = attribute && shown.segments ? shown.segments[attribute] : null;
    split = Boolean(entries);
    renderSegments(ui.segments, poll, entries, { label: attribute ? segmentLabel(attribute) : "", level: 3 });
  } else {
    renderOptions(poll);
  }
  show(ui.comparisons, compared);
  show(ui.segments, split);
  ui.poll.dataset.revealed = String(revealed);
}

/** Mark a node's text as the case author's language, or let it inherit the page's. */
function setLang(node, lang) {
  if (lang) node.setAttribute("lang", lang);
  else node.removeAttribute("lang");
}

function markNewFacts(caseData) {
  const seen = seenFacts.get(caseData.id);
  const ids = (caseData.facts || []).map((f) => String(f.id));
  if (seen) {
    for (const node of ui.caseCard.querySelectorAll("[data-fact-id]")) {
      if (seen.has(node.dataset.factId)) continue;
      node.classList.add("is-new");
    }
  }
  seenFacts.set(caseData.id, new Set([...(seen || []), ...ids]));
}

function render() {
  const caseData = state ? state.case : null;
  const screen = stageScreen(state);
  const ended = screen === "ended";
  const wantedView = (state && state.event.text_view) || "list";
  if (wantedView !== eventTextView) {
    eventTextView = wantedView;
    setTextView(wantedView);
  }
  ui.stage.dataset.screen = screen;
  document.body.dataset.screen = screen;
  document.body.dataset.theme = FORCED_THEME || (state && state.event.theme) || "light";
  const slideName = ended ? "join" : screen;
  for (const slide of slides) show(slide, slide.dataset.screenName === slideName);
  ui.welcome.dataset.ended = String(ended);
  ui.welcomeHeading.textContent = ended ? gettext("Thank you") : gettext("Join on your phone");
  ui.waitingText.textContent = ended
    ? gettext("This event has ended.")
    : caseData || (state && state.poll)
      ? gettext("The discussion continues in a moment.")
      : gettext("The discussion will start shortly.");
  renderStatus();

  if (caseData && changed(ui.caseCard, caseData)) {
    ui.caseCard.replaceChildren(renderCase(caseData, { level: 2, imagePath: `/e/${config.code}/images/` }));
    markNewFacts(caseData);
  }
  if (!caseData && changed(ui.caseCard, null)) ui.caseCard.replaceChildren();
  renderPoll();
  // One teaching point at a time, large: the newest revealed, or the one the moderator chose.
  const focus = stagePoint(state);
  ui.teachingHeading.textContent = focus
    ? interpolate(
        gettext("Teaching point %(index)s of %(count)s"),
        { index: formatNumber(focus.index + 1), count: formatNumber(focus.count) },
        true,
      )
    : gettext("Teaching points");
  const shown = focus ? [focus.point] : [];
  if (changed(ui.teachingList, [shown, state && state.case && state.case.language])) {
    renderTeachingPoints(ui.teachingList, shown, { level: 3, languageOf: (id) => caseLanguage(state, id) });
  }
  fit();
}

function setTextView(view) {
  textView = view;
  for (const button of ui.textToggle.querySelectorAll("button[data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === view));
  }
}

for (const button of ui.textToggle.querySelectorAll("button[data-view]")) {
  button.addEventListener("click", () => {
    setTextView(button.dataset.view);
    renderPoll();
    fit();
  });
}

// A presentation clicker on the projector's computer: next/back (arrows, Page Up/Down) and the
// blank key (B or .). The console's live preview of this page (an iframe) takes no keys.
if (window.top === window.self) {
  document.addEventListener("keydown", (event) => {
    const action = clickerAction(event);
    if (!action || !state || event.target.closest("button, input, select, textarea")) return;
    event.preventDefault();
    if (action === "blank") {
      const screen = stageScreen(state) === "blank" ? unblankScreen(state) : "blank";
      live.send({ type: "show_screen", ref: newRef(), screen });
    } else {
      live.send({ type: "step", ref: newRef(), direction: action === "next" ? 1 : -1 });
    }
  });
}

// The questions slide re-renders on its own frames; the stage refits it when it is the one shown.
attachQuestions(live, config, { onRender: () => fit() });
live.start();
