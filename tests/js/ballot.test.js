// ballot.js and ballot-base.js: the texts a phone shows around its voting controls, and the
// rules the controls enforce before anything is sent.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { formatNumber, textLength, voteErrorText } from "../../static/js/ballot-base.js";
import { ballotKey, buildBallot, kindHint, rangeText } from "../../static/js/ballot.js";
import { installFakeDom, texts } from "./fake-dom.js";

const options = [
  { id: 1, label: "One" },
  { id: 2, label: "Two" },
  { id: 3, label: "Three" },
];

describe("texts", () => {
  test("voteErrorText: plain words for refusals a phone user can act on, else the server's", () => {
    assert.equal(voteErrorText({ code: "poll_closed", message: "x" }), "The poll closed before your answer arrived, so it was not counted.");
    assert.equal(voteErrorText({ code: "too_many_options", message: "Choose at most 2." }), "Choose at most 2.");
    assert.equal(voteErrorText({ code: "mystery" }), "Your answer could not be saved.");
  });

  test("formatNumber: integers as they are, others to three decimals", () => {
    assert.equal(formatNumber(6), "6");
    assert.equal(formatNumber(1.5), "1.5");
    assert.equal(formatNumber(2 / 3), "0.667");
    assert.equal(formatNumber(-0.0004), "0");
  });

  test("textLength counts code points after the server's whitespace cleaning", () => {
    assert.equal(textLength("  a   b \n c  "), 5);
    assert.equal(textLength("😀😀"), 2, "an emoji is one character, not two UTF-16 units");
    assert.equal(textLength("e\u0301"), 1, "composed to NFC first");
    assert.equal(textLength(""), 0);
  });

  test("rangeText", () => {
    assert.equal(rangeText({ min: 0, max: 10, unit: "mg" }), "Between 0 and 10 mg.");
    assert.equal(rangeText({ min: 0.5, max: null }), "At least 0.5.");
    assert.equal(rangeText({ max: 100, unit: "%" }), "At most 100 %.");
    assert.equal(rangeText({ unit: "days" }), "Any number of days.");
    assert.equal(rangeText(null), "Any number.");
  });

  test("kindHint says how to answer each kind", () => {
    assert.match(kindHint({ kind: "single", options }), /^Choose one answer/);
    assert.equal(kindHint({ kind: "multi", options, max_choices: 2 }), "Choose up to 2, then send.");
    assert.equal(kindHint({ kind: "multi", options, max_choices: 3 }), "Choose all that apply, then send.");
    assert.equal(kindHint({ kind: "multi", options }), "Choose all that apply, then send.");
    assert.equal(kindHint({ kind: "ranking", options }), "Put the options in order, best first, then send.");
    assert.match(kindHint({ kind: "poll-of-the-future", options }), /cannot be answered/);
  });

  test("ballotKey: only what the controls are built from (not state, results or preferred)", () => {
    const poll = { id: 1, kind: "single", options, state: "open", results_visible: true, ask_confidence: false };
    const key = ballotKey(poll);
    assert.deepEqual(Object.keys(key).sort(), [
      "ask_confidence",
      "id",
      "kind",
      "max_choices",
      "numeric",
      "options",
      "text_max_length",
    ]);
    assert.deepEqual(ballotKey({ ...poll, state: "closed", preferred: { options: [1] } }), key);
  });
});

describe("widgets", () => {
  beforeEach(() => installFakeDom());

  function build(poll) {
    const sent = [];
    const widget = buildBallot(poll, { submit: (ballot) => sent.push(ballot) });
    widget.setEnabled(true);
    return { widget, sent };
  }

  const submit = (widget) => widget.root.dispatch("submit", { preventDefault() {} });

  test("phones letter the options A, B, C like the projector, and number a rating scale", () => {
    const single = build({ id: 3, kind: "single", options }).widget;
    assert.deepEqual(texts(single.root, ".option-key"), ["A", "B", "C"]);
    const multi = build({ id: 4, kind: "multi", options }).widget;
    assert.deepEqual(texts(multi.root, ".option-key"), ["A", "B", "C"]);
    const scale = build({ id: 5, kind: "likert", options }).widget;
    assert.deepEqual(texts(scale.root, ".scale-number"), ["1", "2", "3"]);
    assert.equal(scale.root.querySelectorAll(".option-key").length, 0);
  });

  test("multiple choice refuses one option too many, and sends the chosen ones", () => {
    const { widget, sent } = build({ id: 5, kind: "multi", options, max_choices: 2 });
    const inputs = widget.root.querySelectorAll("input");
    for (const input of inputs) {
      input.checked = true;
      input.dispatch("change");
    }
    assert.deepEqual(
      inputs.map((input) => input.checked),
      [true, true, false],
    );
    assert.equal(widget.error.textContent, "You can choose up to 2. Untick one to choose another.");
    submit(widget);
    assert.deepEqual(sent, [{ options: [1, 2] }]);
  });

  test("nothing chosen: an error next to the controls, nothing sent; a closed poll sends nothing", () => {
    const { widget, sent } = build({ id: 6, kind: "likert", options });
    submit(widget);
    assert.equal(widget.error.textContent, "Pick a point on the scale first.");
    widget.root.querySelector("input").checked = true;
    widget.setEnabled(false);
    submit(widget);
    assert.deepEqual(sent, []);
  });

  test("confidence goes out with the ballot when the poll asks for it", () => {
    const { widget, sent } = build({ id: 7, kind: "likert", options, ask_confidence: true });
    widget.root.querySelector('input[name="scale-7"]').checked = true;
    const confidence = widget.root.querySelectorAll('input[name="confidence-7"]');
    confidence[3].checked = true;
    submit(widget);
    assert.deepEqual(sent, [{ options: [1], confidence: 4 }]);
  });

  test("ranking: moving an option changes the order sent; the ends cannot move further", () => {
    const { widget, sent } = build({ id: 8, kind: "ranking", options });
    const items = () => widget.root.querySelectorAll('[data-testid="rank-item"]');
    const up = (i) => items()[i].querySelector('[data-testid="move-up"]');
    assert.equal(up(0).disabled, true);
    up(2).dispatch("click", { currentTarget: up(2) });
    assert.deepEqual(texts(widget.root, '[data-testid="rank-label"]'), ["One", "Three", "Two"]);
    assert.deepEqual(texts(widget.root, ".rank-position"), ["1", "2", "3"]);
    assert.equal(widget.status.textContent, "Three: position 2 of 3.");
    submit(widget);
    assert.deepEqual(sent, [{ options: [1, 3, 2] }]);
  });

  test("showBallot puts a recorded ballot back into the controls", () => {
    const { widget } = build({ id: 9, kind: "multi", options });
    widget.showBallot({ options: [3] });
    assert.deepEqual(
      widget.root.querySelectorAll("input").map((input) => input.checked),
      [false, false, true],
    );
  });
});
