// The optional profile questions an event asks at join (docs/protocol.md, `profile`), and the
// participant's own answers, shown with an Edit button once saved.
//
// What was answered comes from the server (`my_profile` in `state`: null until saved), so the
// answers survive a reload, another tab or a cleared browser. Only a skip is kept on the phone
// (localStorage), so the form does not come back after each reload. The form never stands
// between a person and the poll: it sits below it and can always be skipped.

import { gettext } from "./i18n.js";
import { newRef } from "./live.js";
import { h } from "./render.js";

const NOT_STATED = gettext("Prefer not to say");

function storageKey(code) {
  return `caseboard:profile:${code}`;
}

function remembered(code) {
  try {
    return window.localStorage.getItem(storageKey(code));
  } catch {
    return null;
  }
}

function remember(code, outcome) {
  try {
    window.localStorage.setItem(storageKey(code), outcome);
  } catch {
    // Private mode: the form may come back after a reload, which is harmless.
  }
}

export class ProfileForm {
  /**
   * @param {HTMLElement} section the (hidden) section that holds the form
   * @param {object} options code (event join code), send(frame) -> bool (false when not connected)
   */
  constructor(section, { code, send }) {
    this.section = section;
    this.code = code;
    this.sendFrame = send;
    this.ref = null;
    this.outcome = remembered(code); // "answered", "skipped" or null
    this.questions = [];
    this.answers = null; // the server's record of this participant's answers (null: none saved)
    this.editing = false;
    this.justSaved = false;
    this.renderedFor = null;
  }

  /**
   * Show what fits: the saved answers with an Edit button, the form (first time, or editing),
   * or nothing (no questions, or skipped on this phone).
   * @param {Array} questions the event's profile questions
   * @param {object|null|undefined} answers `my_profile` of the state (undefined: not said)
   */
  update(questions, answers) {
    this.questions = Array.isArray(questions) ? questions : [];
    if (answers !== undefined) this.answers = answers;
    if (this.questions.length === 0) {
      this.section.hidden = true;
      return;
    }
    let mode;
    if (this.editing) mode = "form";
    else if (this.answers) mode = "summary";
    else mode = this.outcome === "skipped" ? "none" : "form";
    if (mode === "none") {
      this.section.hidden = true;
      return;
    }
    // Rebuilt only when something it shows changed: a rebuilt form would lose what is being chosen.
    // (Answers in the questions' order: the server's JSON may list the keys in another order.)
    const shown = mode === "summary" ? this.questions.map((q) => this.answers[q.key] || "") : null;
    const key = JSON.stringify([mode, this.questions, shown, this.justSaved]);
    if (this.renderedFor !== key) {
      this.renderedFor = key;
      if (mode === "form") this.build();
      else this.buildSummary();
    }
    this.section.hidden = false;
  }

  rerender() {
    this.renderedFor = null;
    this.update(this.questions, undefined);
  }

  buildSummary() {
    const saved = this.answers || {};
    const rows = this.questions.map((question) => [
      h("dt", { text: question.label }),
      h("dd", { "data-testid": `profile-answer-${question.key}`, text: saved[question.key] || gettext("Not stated") }),
    ]);
    const edit = h("button", {
      type: "button",
      class: "button button-secondary",
      "data-testid": "profile-edit",
      "aria-label": gettext("Edit your answers about you"),
      text: gettext("Edit"),
      onclick: () => this.edit(),
    });
    const thanks = this.justSaved
      ? h("p", {
          class: "profile-thanks",
          "data-testid": "profile-thanks",
          role: "status",
          tabindex: "-1",
          text: gettext("Thank you: your answers are saved."),
        })
      : null;
    this.section.replaceChildren(
      h("h2", { id: "profile-heading", class: "profile-title", text: gettext("About you") }),
      thanks,
      h("dl", { class: "profile-summary", "data-testid": "profile-summary" }, rows),
      h("p", {
        class: "field-hint",
        text: gettext("Only groups are ever shown, never your answers. A change counts from the next poll."),
      }),
      h("div", { class: "profile-actions" }, edit),
    );
    this.section.setAttribute("aria-labelledby", "profile-heading");
    if (thanks) thanks.focus({ preventScroll: true }); // the form (and the focused Save button) is gone
  }

  build() {
    const saved = this.answers || {};
    this.selects = this.questions.map((question) => {
      const id = `profile-${question.key}`;
      const select = h(
        "select",
        { id, name: question.key, class: "select", "data-testid": `profile-${question.key}` },
        h("option", { value: "", text: NOT_STATED }),
        question.options.map((option) =>
          h("option", { value: option, text: option, selected: saved[question.key] === option }),
        ),
      );
      return { question, select, field: h("div", { class: "field" }, h("label", { class: "field-label", for: id, text: question.label }), select) };
    });
    this.error = h("p", { class: "form-error profile-error", "data-testid": "profile-error", role: "alert" });
    this.saveButton = h("button", {
      type: "submit",
      class: "button button-primary",
      "data-testid": "profile-save",
      text: gettext("Save"),
    });
    // Editing saved answers is left with Cancel (the answers stay); a first form with Skip.
    const leave = this.editing
      ? h("button", {
          type: "button",
          class: "button button-quiet",
          "data-testid": "profile-cancel",
          text: gettext("Cancel"),
          onclick: () => this.cancel(),
        })
      : h("button", {
          type: "button",
          class: "button button-quiet",
          "data-testid": "profile-skip",
          text: gettext("Skip"),
          onclick: () => this.skip(),
        });
    const form = h(
      "form",
      {
        class: "profile-form",
        "data-testid": "profile-form",
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          this.save();
        },
      },
      this.selects.map((s) => s.field),
      this.error,
      h("div", { class: "profile-actions" }, this.saveButton, leave),
    );
    this.section.replaceChildren(
      h("h2", { id: "profile-heading", class: "profile-title", text: this.editing ? gettext("About you") : gettext("About you (optional)") }),
      h("p", {
        class: "field-hint",
        text: gettext(
          "These answers let the moderator compare how groups voted. They are never shown one by one, groups too small to keep you anonymous are merged, and you can skip any question.",
        ),
      }),
      form,
    );
    this.section.setAttribute("aria-labelledby", "profile-heading");
  }

  edit() {
    this.editing = true;
    this.justSaved = false;
    this.rerender();
    if (this.selects.length) this.selects[0].select.focus({ preventScroll: true });
  }

  cancel() {
    if (this.ref) return; // the answers are on their way: the ack settles it
    this.editing = false;
    this.rerender();
    const edit = this.section.querySelector("[data-testid='profile-edit']");
    if (edit) edit.focus({ preventScroll: true });
  }

  save() {
    if (this.ref) return; // already on its way
    const answers = {};
    for (const { question, select } of this.selects) answers[question.key] = select.value;
    const ref = newRef();
    if (!this.sendFrame({ type: "profile", ref, answers })) {
      this.error.textContent = gettext("Not connected right now, so nothing was sent. Try again in a moment, or skip.");
      return;
    }
    this.ref = ref;
    this.error.textContent = "";
    this.saveButton.disabled = true;
    this.saveButton.setAttribute("aria-busy", "true");
    this.saveButton.textContent = gettext("Saving…");
  }

  skip() {
    this.finish("skipped");
    this.section.hidden = true;
    document.getElementById("main").focus({ preventScroll: true }); // the form and its focus are gone
  }

  finish(outcome) {
    this.outcome = outcome;
    remember(this.code, outcome);
  }

  settle() {
    this.ref = null;
    if (!this.saveButton) return;
    this.saveButton.disabled = false;
    this.saveButton.removeAttribute("aria-busy");
    this.saveButton.textContent = gettext("Save");
  }

  /** Take the answer to our `profile` frame; true when the ack was ours. */
  handleAck(ack) {
    if (!this.ref || ack.ref !== this.ref) return false;
    this.settle();
    this.finish("answered");
    this.answers = ack.profile || {};
    this.editing = false;
    this.justSaved = true;
    this.rerender();
    return true;
  }

  /** Take a refusal of our `profile` frame; true when the error was ours. */
  handleError(error) {
    if (!this.ref || error.ref !== this.ref) return false;
    this.settle();
    this.error.textContent = error.message || gettext("Your answers could not be saved. Try again, or skip.");
    return true;
  }

  /** The connection dropped before the answer: let the person try again. */
  connectionLost() {
    if (!this.ref) return;
    this.settle();
    this.error.textContent = gettext("The connection dropped before your answers were saved. Try again, or skip.");
  }
}
