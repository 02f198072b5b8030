import assert from "node:assert/strict";
import { test } from "node:test";

import { QUICK_PRESETS, quickPollFields } from "../../static/js/console-quickpoll.js";

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
