// The shared frame of every voting widget (ballot.js): the error slot next to the controls, the
// optional 1–5 confidence row, enabling, showing a recorded ballot and marking preferred options.

import { h } from "./render.js";
import { gettext } from "./i18n.js";

let serial = 0;
export const nextId = (prefix) => `${prefix}-${++serial}`;

// Messages for refusals whose server text would not make sense on a phone.
const PLAIN_ERRORS = {
  poll_closed: gettext("The poll closed before your answer arrived, so it was not counted."),
  poll_not_open: gettext("This poll is not open yet, so your answer was not counted."),
  event_ended: gettext("The event has ended, so your answer was not counted."),
};

export function voteErrorText(error) {
  return PLAIN_ERRORS[error.code] || error.message || gettext("Your answer could not be saved.");
}

export function formatNumber(value) {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
}

/** Code points after the server's cleaning (runs of whitespace count as one space). */
export function textLength(text) {
  return [...String(text).normalize("NFC").replace(/\s+/g, " ").trim()].length;
}

function preferredTag() {
  return h("span", { class: "preferred-tag", "data-testid": "preferred-tag", text: gettext("Preferred") });
}

/** Mark option elements (with data-option-id) as preferred, with a visible word, not only colour. */
export function markPreferred(nodes, ids) {
  for (const node of nodes) {
    const preferred = ids.has(Number(node.dataset.optionId));
    node.classList.toggle("is-preferred", preferred);
    const tag = node.querySelector(".preferred-tag");
    if (preferred && !tag) node.querySelector(".option-label, .choice-label, .rank-label").after(preferredTag());
    if (!preferred && tag) tag.remove();
  }
}

function confidenceFieldset(poll, onchange) {
  const hint = nextId("confidence-hint");
  const points = [1, 2, 3, 4, 5].map((n) =>
    h(
      "label",
      { class: "confidence-point", "data-testid": "confidence-point" },
      h("input", { type: "radio", name: `confidence-${poll.id}`, value: n, class: "choice-input", onchange }),
      h("span", { text: String(n) }),
    ),
  );
  return h(
    "fieldset",
    { class: "confidence", "data-testid": "confidence", "aria-describedby": hint },
    h("legend", { class: "confidence-legend", text: gettext("How confident are you?") }),
    h("div", { class: "confidence-row" }, points),
    h("p", { class: "confidence-scale", id: hint, text: gettext("1 = not at all confident, 5 = very confident") }),
  );
}

/** The shared frame of a widget: error slot, optional confidence row, enabling, server errors. */
export class Widget {
  constructor(poll, handlers) {
    this.poll = poll;
    this.handlers = handlers;
    this.errorId = nextId("ballot-error");
    this.error = h("p", { class: "ballot-error", id: this.errorId, "data-testid": "ballot-error", role: "alert" });
    this.clientError = "";
    this.serverError = "";
    this.shownKey = null;
    this.confidence = poll.ask_confidence ? confidenceFieldset(poll, () => this.confidenceChanged()) : null;
  }

  confidenceValue() {
    if (!this.confidence) return null;
    const checked = this.confidence.querySelector("input:checked");
    return checked ? Number(checked.value) : null;
  }

  setConfidence(value) {
    if (!this.confidence) return;
    for (const input of this.confidence.querySelectorAll("input")) input.checked = Number(input.value) === value;
  }

  confidenceChanged() {
    this.edited();
  }

  edited() {
    this.clientError = "";
    this.renderError();
    if (this.handlers.edited) this.handlers.edited();
  }

  fail(message) {
    this.clientError = message;
    this.renderError();
    if (this.handlers.refused) this.handlers.refused();
  }

  send(ballot) {
    this.clientError = "";
    const confidence = this.confidenceValue();
    this.handlers.submit(confidence === null ? ballot : { ...ballot, confidence });
  }

  setServerError(message) {
    this.serverError = message || "";
    this.renderError();
  }

  renderError() {
    const text = this.clientError || this.serverError;
    if (this.error.textContent !== text) this.error.textContent = text;
    for (const control of this.invalidTargets()) {
      if (text) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }
  }

  invalidTargets() {
    return [];
  }

  controls() {
    return [...this.root.querySelectorAll("input, textarea, button, select")];
  }

  setEnabled(open) {
    this.root.dataset.open = String(open);
    for (const control of this.controls()) control.disabled = !open || control.dataset.stuck === "true";
  }

  showBallot(ballot, { pending = false } = {}) {
    const key = JSON.stringify(ballot || null);
    this.root.classList.toggle("is-pending", pending);
    if (key === this.shownKey) return;
    this.shownKey = key;
    this.fill(ballot || {});
    this.setConfidence(ballot && ballot.confidence !== undefined ? ballot.confidence : null);
  }

  setPreferred() {}

  /** A form with the kind's controls, the confidence row, the error slot and a submit button. */
  form(body, { submitText = gettext("Send answer") } = {}) {
    this.submitButton = h("button", {
      type: "submit",
      class: "button button-primary button-block ballot-submit",
      "data-testid": "ballot-submit",
      text: submitText,
    });
    const legend = h("legend", { class: "visually-hidden", text: this.poll.question });
    return h(
      "form",
      {
        class: `ballot ballot-${this.poll.kind}`,
        "data-testid": "ballot",
        "data-kind": this.poll.kind,
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          if (this.root.dataset.open !== "true") return;
          const ballot = this.read();
          if (ballot) this.send(ballot);
        },
      },
      h("fieldset", { class: "ballot-fieldset", "aria-describedby": this.errorId }, legend, body),
      this.confidence,
      this.error,
      this.submitButton,
    );
  }
}
