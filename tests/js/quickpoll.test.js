import assert from "node:assert/strict";
import { test } from "node:test";

import { createQuickPoll, QUICK_PRESETS, quickPollFields } from "../../static/js/console-quickpoll.js";

const blank = { question: "", options: "", min: "", max: "", unit: "", caseId: "" };

test("a choice poll sends its options in order, blank lines dropped, and its case", () => {
  const fields = quickPollFields({ ...blank, kind: "single", question: " Now? ", options: "Yes\n\n  No \n", caseId: "7" });
  assert.deepEqual(fields, { kind: "single", question: "Now?", options: ["Yes", "No"], case: 7 });
});

test("a number poll sends its bounds and unit, never options", () => {
  const fields = quickPollFields({ ...blank, kind: "numeric", question: "Months?", options: "x", min: "0", max: "60", unit: " months " });
  assert.deepEqual(fields, { kind: "numeric", question: "Months?", min: 0, max: 60, unit: "months" });
});

test("missing bounds are left out, for the server to refuse with its reason", () => {
  assert.deepEqual(quickPollFields({ ...blank, kind: "numeric", question: "Q" }), { kind: "numeric", question: "Q" });
});

test("a free-text poll sends no options; the ready-made ones are complete", () => {
  assert.deepEqual(quickPollFields({ ...blank, kind: "text", question: "Why?", options: "a\nb" }), {
    kind: "text",
    question: "Why?",
  });
  assert.equal(QUICK_PRESETS.rating.kind, "likert");
  assert.equal(QUICK_PRESETS.rating.options.length, 5);
  assert.equal(QUICK_PRESETS.text.kind, "text");
});

test("“I have checked the flagged text” is sent only when ticked", () => {
  const base = { ...blank, kind: "text", question: "Why?" };
  assert.deepEqual(quickPollFields({ ...base, acknowledge: true }), { kind: "text", question: "Why?", acknowledge: true });
  assert.deepEqual(quickPollFields({ ...base, acknowledge: false }), { kind: "text", question: "Why?" });
});

/** Just enough of a form for createQuickPoll: named fields, a submit button, a submit listener. */
function fakeForm() {
  const listeners = {};
  const named = {};
  for (const name of ["kind", "question", "options", "min", "max", "unit", "case", "acknowledge_identifiers"]) {
    named[name] = { value: "", checked: false, dataset: {}, addEventListener() {}, replaceChildren() {}, focus() {} };
  }
  named.kind.value = "text";
  const submit = { disabled: false, getAttribute: () => null };
  return {
    elements: { namedItem: (name) => named[name] },
    querySelector: () => submit,
    querySelectorAll: () => [],
    addEventListener: (type, fn) => (listeners[type] = fn),
    submit: () => listeners.submit({ preventDefault() {} }),
    named,
  };
}

test("the console's box is read on submit and cleared once the poll is added", () => {
  const form = fakeForm();
  const sent = [];
  const quick = createQuickPoll(form, (fields) => sent.push(fields));
  form.named.question.value = "Call 617-555-0142?";
  form.named.acknowledge_identifiers.checked = true;
  form.submit();
  assert.equal(sent[0].acknowledge, true);
  quick.added();
  assert.equal(form.named.acknowledge_identifiers.checked, false);
  form.named.question.value = "Next?";
  form.submit();
  assert.equal("acknowledge" in sent[1], false);
});
