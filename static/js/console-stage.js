// The console's control of the projector: what is on screen now (in words, beside the live
// preview), the screen buttons, next/back along the agenda, the blank key, the theme. Keys
// work anywhere on the console except in form fields and dialogs (a clicker sends them too).

import { show } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";
import {
  SCREENS,
  clickerAction,
  pageText,
  screenDescription,
  stagePage,
  stageScreen,
  unblankScreen,
} from "./stage.js";

export function createStageControls(ui, { send, isBusy }) {
  let state = null;

  function available(screen) {
    if (!state) return false;
    if (screen === "case") return Boolean(state.case);
    if (screen === "poll") return Boolean(state.poll);
    if (screen === "teaching") return (state.teaching_points || []).length > 0;
    // Questions switched off for the event: nothing to show there.
    if (screen === "questions") return !state.questions || state.questions.enabled !== false;
    return true;
  }

  function render(next) {
    state = next;
    const screen = stageScreen(state);
    ui.nowScreen.textContent = screenDescription(state);
    ui.nowScreen.dataset.screen = screen;
    // A focus the projector split into pages: which one the room sees (next/back step through them).
    const page = pageText(stagePage(state));
    ui.nowPage.textContent = page ? interpolate(gettext("%s: next and back turn the page"), [page]) : "";
    show(ui.nowPage, Boolean(page));
    const ended = state.event.status === "ended";
    for (const button of ui.screenButtons) {
      button.setAttribute("aria-pressed", String(button.dataset.screen === screen));
      if (!isBusy(button)) button.disabled = ended || !available(button.dataset.screen);
    }
    for (const button of [ui.stageNext, ui.stageBack]) {
      if (!isBusy(button)) button.disabled = ended;
    }
    for (const button of ui.textViewButtons) {
      button.setAttribute("aria-pressed", String(button.dataset.view === (state.event.text_view || "list")));
      if (!isBusy(button)) button.disabled = false;
    }
    if (!isBusy(ui.themeSelect)) {
      ui.themeSelect.disabled = false;
      ui.themeSelect.value = state.event.theme || "light";
    }
    show(ui.screenControls, true);
  }

  function step(direction, button) {
    send("step", { direction }, button);
  }

  function toggleBlank(button) {
    const screen = stageScreen(state) === "blank" ? unblankScreen(state) : "blank";
    send("show_screen", { screen }, button);
  }

  for (const button of ui.screenButtons) {
    if (!SCREENS.includes(button.dataset.screen)) continue;
    button.addEventListener("click", () => send("show_screen", { screen: button.dataset.screen }, button));
  }
  ui.stageNext.addEventListener("click", () => step(1, ui.stageNext));
  ui.stageBack.addEventListener("click", () => step(-1, ui.stageBack));
  for (const button of ui.textViewButtons) {
    button.addEventListener("click", () => send("set_text_view", { view: button.dataset.view }, button));
  }
  ui.themeSelect.addEventListener("change", () => send("set_theme", { theme: ui.themeSelect.value }, ui.themeSelect));

  document.addEventListener("keydown", (event) => {
    const action = clickerAction(event);
    if (!action || !state || state.event.status === "ended") return;
    if (event.target.closest("input, select, textarea, dialog, [contenteditable]")) return;
    event.preventDefault();
    if (action === "blank") toggleBlank(null);
    else step(action === "next" ? 1 : -1, null);
  });

  return { render };
}
