// The optional profile questions an event asks at join (docs/protocol.md, `profile`).
//
// Shown once per event code: answering or skipping is remembered in localStorage, and the form
// never stands between a person and the poll (it sits below it and can always be skipped).

import { newRef } from "./live.js";
import { h } from "./render.js";

const NOT_STATED = "Prefer not to say";

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
    this.renderedFor = null;
  }

  /** Show the form for these questions unless this event's profile was already answered or skipped. */
  update(questions) {
    const wanted = Array.isArray(questions) && questions.length > 0 && !this.outcome;
    if (!wanted) {
      if (!this.thanks) this.section.hidden = true;
      return;
    }
    const key = JSON.stringify(questions);
    if (this.renderedFor !== key) {
      this.renderedFor = key;
      this.build(questions);
    }
    this.section.hidden = false;
  }

  build(questions) {
    this.selects = questions.map((question) => {
      const id = `profile-${question.key}`;
      const select = h(
        "select",
        { id, name: question.key, class: "select", "data-testid": `profile-${question.key}` },
        h("option", { value: "", text: NOT_STATED }),
        question.options.map((option) => h("option", { value: option, text: option })),
      );
      return { question, select, field: h("div", { class: "field" }, h("label", { class: "field-label", for: id, text: question.label }), select) };
    });
    this.error = h("p", { class: "form-error profile-error", "data-testid": "profile-error", role: "alert" });
    this.saveButton = h("button", {
      type: "submit",
      class: "button button-primary",
      "data-testid": "profile-save",
      text: "Save",
    });
    const skip = h("button", {
      type: "button",
      class: "button button-quiet",
      "data-testid": "profile-skip",
      text: "Skip",
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
      h("div", { class: "profile-actions" }, this.saveButton, skip),
    );
    this.section.replaceChildren(
      h("h2", { id: "profile-heading", class: "profile-title", text: "About you (optional)" }),
      h("p", {
        class: "field-hint",
        text:
          "These answers let the moderator compare how groups voted. They are never shown one by one, " +
          "groups too small to keep you anonymous are merged, and you can skip any question.",
      }),
      form,
    );
    this.section.setAttribute("aria-labelledby", "profile-heading");
  }

  save() {
    if (this.ref) return; // already on its way
    const answers = {};
    for (const { question, select } of this.selects) answers[question.key] = select.value;
    const ref = newRef();
    if (!this.sendFrame({ type: "profile", ref, answers })) {
      this.error.textContent = "Not connected right now, so nothing was sent. Try again in a moment, or skip.";
      return;
    }
    this.ref = ref;
    this.error.textContent = "";
    this.saveButton.disabled = true;
    this.saveButton.setAttribute("aria-busy", "true");
    this.saveButton.textContent = "Saving…";
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
    this.saveButton.textContent = "Save";
  }

  /** Take the answer to our `profile` frame; true when the ack was ours. */
  handleAck(ack) {
    if (!this.ref || ack.ref !== this.ref) return false;
    this.settle();
    this.finish("answered");
    this.thanks = true;
    const thanks = h("p", {
      class: "profile-thanks",
      "data-testid": "profile-thanks",
      role: "status",
      tabindex: "-1",
      text: "Thank you: your answers are saved.",
    });
    this.section.replaceChildren(thanks);
    thanks.focus({ preventScroll: true }); // the form (and the focused Save button) is gone
    return true;
  }

  /** Take a refusal of our `profile` frame; true when the error was ours. */
  handleError(error) {
    if (!this.ref || error.ref !== this.ref) return false;
    this.settle();
    this.error.textContent = error.message || "Your answers could not be saved. Try again, or skip.";
    return true;
  }

  /** The connection dropped before the answer: let the person try again. */
  connectionLost() {
    if (!this.ref) return;
    this.settle();
    this.error.textContent = "The connection dropped before your answers were saved. Try again, or skip.";
  }
}
