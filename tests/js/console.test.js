// console-agenda.js: the agenda's live one-line summaries and what makes it rebuild.
import assert from "node:assert/strict";
import { test } from "node:test";

import { agendaShape, optionCountText, summaryText } from "../../static/js/console-agenda.js";

const options = [
  { id: 1, label: "Dose" },
  { id: 2, label: "Switch" },
];

test("summaryText per kind", () => {
  assert.equal(
    summaryText({ kind: "numeric" }, { numeric: { n: 4, median: 2.55, unit: "mg" } }),
    "Median 2.6 mg, n = 4",
  );
  assert.equal(summaryText({ kind: "numeric" }, { numeric: { n: 0 } }), "");
  assert.equal(
    summaryText({ kind: "text" }, { answers: [{ id: 1 }, { id: 2 }], pending: 1 }),
    "2 answers \u00b7 1 waiting for approval",
  );
  assert.equal(
    summaryText({ kind: "likert" }, { scale: { mean: 3.25, median: 3, points: 5 } }),
    "Mean 3.3, median 3 of 5",
  );
  assert.equal(summaryText({ kind: "likert" }, { scale: { mean: null } }), "");
  assert.equal(
    summaryText({ kind: "ranking", options }, { total: 2, ranking: [{ option: 2 }, { option: 1 }] }),
    "Ranked first overall: Switch",
  );
  assert.equal(summaryText({ kind: "ranking", options }, { total: 0, ranking: [{ option: 2 }] }), "");
  assert.equal(summaryText({ kind: "single", options }, { total: 3, counts: { 1: 3 } }), "");
});

test("agendaShape changes with the agenda's content, not with its live state", () => {
  const poll = { id: 7, question: "Next?", kind: "single", round: 1, options, preferred: null, state: "draft" };
  const item = { id: 1, title: "Case", facts: [{ id: 3, label: "Labs", revealed: false }], polls: [poll], teaching_points: [] };
  const shape = JSON.stringify(agendaShape([item]));
  const live = { ...item, facts: [{ ...item.facts[0], revealed: true }], polls: [{ ...poll, state: "open", results_visible: true }] };
  assert.equal(JSON.stringify(agendaShape([live])), shape);
  const renamed = { ...item, polls: [{ ...poll, question: "Next step?" }] };
  assert.notEqual(JSON.stringify(agendaShape([renamed])), shape);
  const withPreferred = { ...item, polls: [{ ...poll, preferred: { options: [1] } }] };
  assert.notEqual(JSON.stringify(agendaShape([withPreferred])), shape);
});

test("a ranking's agenda card shows each option's Borda score, not its ballot count", () => {
  const results = {
    counts: { 1: 10, 2: 10 },
    ranking: [
      { option: 2, mean_rank: 1.2, borda: 8 },
      { option: 1, mean_rank: 1.8, borda: 2 },
    ],
  };
  assert.equal(optionCountText({ kind: "ranking" }, 2, results), "8 pts");
  assert.equal(optionCountText({ kind: "ranking" }, 1, results), "2 pts");
  assert.equal(optionCountText({ kind: "single" }, 1, results), "10");
  assert.equal(optionCountText({ kind: "single" }, 3, results), "0");
  assert.equal(optionCountText({ kind: "single" }, 1, null), "");
});
