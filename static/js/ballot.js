// The participant's voting controls, one widget per poll kind (docs/protocol.md, "vote").
//
// A widget is built once per poll and then only updated, so what a person is typing or
// choosing survives every `state` and `results` frame. Its interface:
//   root                           the element to put on the page
//   showBallot(ballot, {pending})  put a recorded (or still saving) ballot into the controls
//   setEnabled(open)               controls work only while the poll is open
//   setServerError(message)        a refusal from the server, shown next to the controls
//   setPreferred(ids)              mark the evidence-preferred options once revealed
// Single choice sends on one tap (as before); every other kind is a form with a submit button.

import { Widget, formatNumber, markPreferred, nextId, textLength } from "./ballot-base.js";
import { Ranking } from "./ballot-ranking.js";
import { h } from "./render.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

export { voteErrorText } from "./ballot-base.js";

/** The allowed range of a numeric poll, in words ("Between 0 and 10 mg.", "Any number."). */
export function rangeText(numeric) {
  const { min, max, unit } = numeric || {};
  const has = (v) => v !== null && v !== undefined;
  // The unit is the author's word ("mg"), kept as typed; whole sentences are translated.
  const values = { min: has(min) ? formatNumber(min) : "", max: has(max) ? formatNumber(max) : "", unit: unit || "" };
  let text;
  if (has(min) && has(max)) text = unit ? gettext("Between %(min)s and %(max)s %(unit)s.") : gettext("Between %(min)s and %(max)s.");
  else if (has(min)) text = unit ? gettext("At least %(min)s %(unit)s.") : gettext("At least %(min)s.");
  else if (has(max)) text = unit ? gettext("At most %(max)s %(unit)s.") : gettext("At most %(max)s.");
  else text = unit ? gettext("Any number of %(unit)s.") : gettext("Any number.");
  return interpolate(text, values, true);
}

/** What to do, for the hint under the question. */
export function kindHint(poll) {
  switch (poll.kind) {
    case "single":
      return gettext("Choose one answer. You can change it until the poll closes.");
    case "multi": {
      const max = poll.max_choices || poll.options.length;
      return max >= poll.options.length
        ? gettext("Choose all that apply, then send.")
        : interpolate(gettext("Choose up to %s, then send."), [max]);
    }
    case "likert":
      return gettext("Pick one point on the scale, then send.");
    case "numeric":
      return gettext("Enter a number, then send.");
    case "text":
      return gettext("Write a short answer, then send.");
    case "ranking":
      return gettext("Put the options in order, best first, then send.");
    default:
      return gettext("This kind of question cannot be answered on this page.");
  }
}

/** The letter the projector shows beside an option (A, B, C…), so the room can say "B". */
export function optionLetter(index) {
  return String.fromCharCode(65 + (index % 26));
}

function choiceTile(type, name, option, index, onchange) {
  const input = h("input", { type, name, value: option.id, class: "choice-input", onchange });
  return h(
    "label",
    { class: "choice", "data-testid": "choice", "data-option-id": option.id },
    input,
    type === "radio" && name.startsWith("scale")
      ? h("span", { class: "scale-number", "aria-hidden": "true", text: String(index + 1) })
      : h("span", { class: "option-key", "aria-hidden": "true", text: optionLetter(index) }),
    h("span", { class: "choice-label", text: option.label }),
  );
}

// ------------------------------------------------------------ single choice

class SingleChoice extends Widget {
  constructor(poll, handlers) {
    super(poll, handlers);
    this.buttons = poll.options.map((option, index) =>
      h(
        "button",
        {
          type: "button",
          class: "option",
          "data-testid": "option",
          "data-option-id": option.id,
          "aria-pressed": "false",
          onclick: () => this.choose(option.id),
        },
        h("span", { class: "option-mark", "aria-hidden": "true" }),
        h("span", { class: "option-key", "aria-hidden": "true", text: optionLetter(index) }),
        h("span", { class: "option-label", text: option.label }),
      ),
    );
    const group = h(
      "div",
      { class: "options", role: "group", "aria-labelledby": "poll-question", "data-testid": "options" },
      this.buttons,
    );
    this.chosen = null;
    this.root = h("div", { class: "ballot ballot-single", "data-testid": "ballot", "data-kind": poll.kind });
    this.root.append(group, ...(this.confidence ? [this.confidence] : []), this.error);
  }

  choose(optionId) {
    if (this.root.dataset.open !== "true") return;
    const confidence = this.confidenceValue();
    if (this.chosen === optionId && this.lastConfidence === confidence && !this.serverError) return;
    this.send({ options: [optionId] });
  }

  confidenceChanged() {
    super.confidenceChanged();
    // One tap: with an answer already given, the new confidence goes out with it at once.
    if (this.chosen !== null) this.send({ options: [this.chosen] });
  }

  showBallot(ballot, { pending = false } = {}) {
    super.showBallot(ballot, { pending });
    for (const button of this.buttons) {
      const selected = this.chosen === Number(button.dataset.optionId);
      button.setAttribute("aria-pressed", selected ? "true" : "false");
      button.classList.toggle("is-selected", selected);
      button.classList.toggle("is-pending", selected && pending);
    }
  }

  fill(ballot) {
    this.chosen = ballot.options && ballot.options.length ? ballot.options[0] : null;
    this.lastConfidence = ballot.confidence === undefined ? null : ballot.confidence;
  }

  setPreferred(ids) {
    markPreferred(this.buttons, ids);
  }
}

// ------------------------------------------------------ scale and checkboxes

class Choices extends Widget {
  constructor(poll, handlers) {
    super(poll, handlers);
    const scale = poll.kind === "likert";
    const type = scale ? "radio" : "checkbox";
    const name = `${scale ? "scale" : "choice"}-${poll.id}`;
    this.max = scale ? 1 : poll.max_choices || poll.options.length;
    this.tiles = poll.options.map((option, index) => choiceTile(type, name, option, index, (e) => this.toggled(e)));
    const list = h("div", { class: scale ? "scale" : "choices", "data-testid": scale ? "scale" : "choices" }, this.tiles);
    this.root = this.form(list);
  }

  inputs() {
    return this.tiles.map((tile) => tile.querySelector("input"));
  }

  picked() {
    return this.inputs()
      .filter((input) => input.checked)
      .map((input) => Number(input.value));
  }

  /** A box was ticked or unticked: refuse one too many, else take the edit. */
  toggled(event) {
    if (event.target.checked && this.picked().length > this.max) {
      event.target.checked = false; // refused here; the server refuses it too (too_many_options)
      this.mark();
      this.fail(interpolate(gettext("You can choose up to %s. Untick one to choose another."), [this.max]));
      return;
    }
    this.mark();
    this.edited();
  }

  mark() {
    for (const tile of this.tiles) tile.classList.toggle("is-selected", tile.querySelector("input").checked);
  }

  read() {
    const options = this.picked();
    if (!options.length) {
      this.fail(
        this.poll.kind === "likert" ? gettext("Pick a point on the scale first.") : gettext("Choose at least one answer."),
      );
      return null;
    }
    return { options };
  }

  fill(ballot) {
    const ids = new Set(ballot.options || []);
    for (const input of this.inputs()) input.checked = ids.has(Number(input.value));
    this.mark();
  }

  setPreferred(ids) {
    markPreferred(this.tiles, ids);
  }
}

// ------------------------------------------------------------------ numeric

class NumberAnswer extends Widget {
  constructor(poll, handlers) {
    super(poll, handlers);
    const numeric = poll.numeric || {};
    const id = nextId("number");
    const hint = nextId("number-hint");
    this.range = rangeText(numeric);
    this.input = h("input", {
      type: "number",
      id,
      class: "number-input",
      inputmode: "decimal",
      step: "any",
      min: numeric.min ?? null,
      max: numeric.max ?? null,
      autocomplete: "off",
      "data-testid": "number-input",
      "aria-describedby": `${hint} ${this.errorId}`,
      oninput: () => this.edited(),
    });
    const label = numeric.unit
      ? interpolate(gettext("Your answer (%s)"), [numeric.unit])
      : gettext("Your answer");
    this.root = this.form(
      h(
        "div",
        { class: "field number-field" },
        h("label", { class: "field-label", for: id, text: label }),
        h("p", { class: "field-hint", id: hint, "data-testid": "number-range", text: this.range }),
        h(
          "div",
          { class: "number-row" },
          this.input,
          numeric.unit ? h("span", { class: "number-unit", "aria-hidden": "true", text: numeric.unit }) : null,
        ),
      ),
    );
  }

  read() {
    const { min, max } = this.poll.numeric || {};
    const raw = this.input.value.trim();
    const value = Number(raw);
    if (this.input.validity.badInput || raw === "" || !Number.isFinite(value)) {
      this.fail(gettext("Enter a number, for example 6 or 1.5."));
      return null;
    }
    if ((min !== null && min !== undefined && value < min) || (max !== null && max !== undefined && value > max)) {
      this.fail(interpolate(gettext("That is out of range. %s"), [this.range]));
      return null;
    }
    return { value };
  }

  fill(ballot) {
    this.input.value = typeof ballot.value === "number" ? formatNumber(ballot.value) : "";
  }

  invalidTargets() {
    return [this.input];
  }
}

// ---------------------------------------------------------------- free text

class TextAnswer extends Widget {
  constructor(poll, handlers) {
    super(poll, handlers);
    this.limit = poll.text_max_length || 140;
    const id = nextId("text");
    const counter = nextId("text-counter");
    this.counter = h("p", { class: "text-counter", id: counter, "data-testid": "text-counter" });
    this.textarea = h("textarea", {
      id,
      class: "text-input",
      rows: 4,
      "data-testid": "text-input",
      "aria-describedby": `${counter} ${this.errorId}`,
      oninput: () => {
        this.count();
        this.edited();
      },
    });
    this.note = h("p", { class: "text-note", "data-testid": "text-note" });
    this.root = this.form(
      h(
        "div",
        { class: "field text-field" },
        h("label", { class: "field-label", for: id, text: gettext("Your answer") }),
        this.textarea,
        this.counter,
      ),
    );
    this.root.append(this.note);
    this.count();
    this.setSent(false);
  }

  count() {
    const n = textLength(this.textarea.value);
    this.counter.textContent = interpolate(gettext("%(count)s of %(limit)s characters"), { count: n, limit: this.limit }, true);
    this.counter.classList.toggle("is-over", n > this.limit);
  }

  setSent(sent) {
    this.note.textContent = sent
      ? gettext("Sent. The moderator reads answers first and chooses which ones appear on the shared screen.")
      : gettext("The moderator reads answers first and chooses which ones appear on the shared screen.");
  }

  read() {
    const n = textLength(this.textarea.value);
    if (n === 0) {
      this.fail(gettext("Write an answer first."));
      return null;
    }
    if (n > this.limit) {
      const over = n - this.limit;
      const tooLong = ngettext(
        "Your answer is %(over)s character too long (at most %(limit)s).",
        "Your answer is %(over)s characters too long (at most %(limit)s).",
        over,
      );
      this.fail(interpolate(tooLong, { over, limit: this.limit }, true));
      return null;
    }
    return { text: this.textarea.value };
  }

  fill(ballot) {
    this.textarea.value = typeof ballot.text === "string" ? ballot.text : "";
    this.count();
    this.setSent(typeof ballot.text === "string");
  }

  invalidTargets() {
    return [this.textarea];
  }
}

// ------------------------------------------------------------------ registry

const WIDGETS = {
  single: SingleChoice,
  multi: Choices,
  likert: Choices,
  numeric: NumberAnswer,
  text: TextAnswer,
  ranking: Ranking,
};

/** The widget for a poll, or null for a kind this page does not know. */
export function buildBallot(poll, handlers) {
  const Kind = WIDGETS[poll.kind];
  return Kind ? new Kind(poll, handlers) : null;
}

/** What identifies a widget: rebuilt only when one of these changes (never on state or results). */
export function ballotKey(poll) {
  const { id, kind, options, max_choices, numeric, text_max_length, ask_confidence } = poll;
  return { id, kind, options, max_choices, numeric, text_max_length, ask_confidence };
}
