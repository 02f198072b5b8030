// charts.js: what each kind's results show (shares, ties, Borda order, histogram, word cloud),
// and that rendering them keeps server strings out of the markup.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import {
  CHOICE_KINDS,
  choiceBars,
  cloudWords,
  histogramBars,
  preferredIds,
  rankingBars,
  renderResults,
  scalePosition,
} from "../../static/js/charts.js";
import { installFakeDom, texts } from "./fake-dom.js";

const ATTACK = `<img src=x onerror="alert(1)">`;

const single = {
  id: 1,
  kind: "single",
  options: [
    { id: 11, label: "Refer for CAR T" },
    { id: 12, label: "Bispecific antibody" },
    { id: 13, label: "Best supportive care" },
  ],
};

describe("choiceBars", () => {
  test("shares are rounded percentages of the total, counts per option id", () => {
    const bars = choiceBars(single, { total: 3, counts: { 11: 1, 12: 2 } });
    assert.deepEqual(
      bars.map((b) => [b.option.id, b.count, b.pct]),
      [
        [11, 1, 33],
        [12, 2, 67],
        [13, 0, 0],
      ],
    );
    assert.equal(bars[0].said, "Refer for CAR T: 33%, 1 vote");
    assert.equal(bars[2].said, "Best supportive care: 0%, 0 votes");
  });

  test("every option tied for the most votes is the top; none before any vote", () => {
    const tied = choiceBars(single, { total: 4, counts: { 11: 2, 12: 2 } });
    assert.deepEqual(
      tied.map((b) => b.isTop),
      [true, true, false],
    );
    const empty = choiceBars(single, { total: 0 });
    assert.deepEqual(
      empty.map((b) => [b.pct, b.isTop]),
      [
        [0, false],
        [0, false],
        [0, false],
      ],
    );
  });

  test("multiple choice shares may add up to more than 100", () => {
    const multi = { ...single, kind: "multi", max_choices: 3 };
    const bars = choiceBars(multi, { total: 2, counts: { 11: 2, 12: 1, 13: 1 } });
    assert.deepEqual(
      bars.map((b) => b.pct),
      [100, 50, 50],
    );
  });

  test("the viewer's own vote, the preferred answer and confidence are marked and said", () => {
    const bars = choiceBars(
      single,
      { total: 4, counts: { 11: 3, 12: 1 }, confidence: { 11: { mean: 4.26, n: 3 }, 12: { mean: null, n: 0 } } },
      { mine: new Set([12]), preferred: new Set(["11"]) },
    );
    assert.deepEqual(
      bars.map((b) => [b.isMine, b.isPreferred]),
      [
        [false, true],
        [true, false],
        [false, false],
      ],
    );
    assert.deepEqual(bars[0].meta, ["Preferred", "confidence 4.3/5"]);
    assert.equal(bars[0].said, "Refer for CAR T: 75%, 3 votes, preferred answer, confidence 4.3/5");
    assert.deepEqual(bars[1].meta, ["", ""]);
  });
});

describe("preferredIds", () => {
  const poll = { ...single, preferred: { options: [11, 13], revealed: false } };

  test("a hidden preferred answer is only for the moderator", () => {
    assert.equal(preferredIds(poll), null);
    assert.deepEqual(preferredIds(poll, { showHiddenPreferred: true }), new Set(["11", "13"]));
  });

  test("a revealed one is for everyone; none without preferred options", () => {
    assert.deepEqual(preferredIds({ ...poll, preferred: { options: [12], revealed: true } }), new Set(["12"]));
    assert.equal(preferredIds({ ...poll, preferred: { options: [], revealed: true } }), null);
    assert.equal(preferredIds(single), null);
  });
});

describe("rankingBars", () => {
  const ranking = {
    id: 2,
    kind: "ranking",
    options: [
      { id: 21, label: "Dose" },
      { id: 22, label: "Switch" },
      { id: 23, label: "Stop" },
    ],
  };

  test("keeps the server's Borda order, numbers the places and scales bars to the best possible score", () => {
    // 4 rankings of 3 options: first place earns 2 points, so the most anyone can get is 8.
    const results = {
      total: 4,
      ranking: [
        { option: 22, borda: 6, mean_rank: 1.5 },
        { option: 21, borda: 4, mean_rank: 2 },
        { option: 23, borda: 2, mean_rank: 2.5 },
      ],
    };
    const bars = rankingBars(ranking, results, new Set(["21"]));
    assert.deepEqual(
      bars.map((b) => [b.place, b.label, b.borda, b.width]),
      [
        [1, "Switch", 6, 75],
        [2, "Dose", 4, 50],
        [3, "Stop", 2, 25],
      ],
    );
    assert.deepEqual(
      bars.map((b) => [b.isTop, b.isPreferred]),
      [
        [true, false],
        [false, true],
        [false, false],
      ],
    );
    assert.equal(bars[0].said, "1. Switch: Borda score 6, mean rank 1.5");
    assert.deepEqual(bars[1].meta, ["Preferred", "mean rank 2"]);
  });

  test("nothing leads before the first ranking; unknown options get a fallback label", () => {
    const results = { total: 0, ranking: [{ option: 99, borda: 0, mean_rank: null }] };
    const [bar] = rankingBars(ranking, results);
    assert.equal(bar.isTop, false);
    assert.equal(bar.label, "Option 99");
    assert.equal(bar.width, 0);
    assert.equal(bar.mean, "not ranked yet");
  });
});

describe("histogramBars", () => {
  const stats = {
    n: 10,
    median: 4,
    histogram: [
      { from: 0, to: 2, count: 1 },
      { from: 2, to: 4, count: 4 },
      { from: 4, to: 6, count: 5 },
      { from: 6, to: 6, count: 0 },
    ],
  };

  test("shares of all answers, bar lengths as those shares, columns against the fullest bin, labels", () => {
    const bars = histogramBars(stats, "mg");
    assert.deepEqual(
      bars.map((b) => [b.label, b.pct, b.width, b.share]),
      [
        ["0\u20132", 10, 10, 0.2],
        ["2\u20134", 40, 40, 0.8],
        ["4\u20136", 50, 50, 1],
        ["6", 0, 0, 0],
      ],
    );
    assert.equal(bars[1].said, "2\u20134 mg: 4 answers");
  });

  test("a bin holds [from, to): the median 4 is in the third bin; the top edge belongs to the last", () => {
    assert.deepEqual(
      histogramBars(stats).map((b) => b.isMedian),
      [false, false, true, false],
    );
    assert.deepEqual(
      histogramBars(stats, "", 1.99).map((b) => b.isMine),
      [true, false, false, false],
    );
    assert.deepEqual(
      histogramBars(stats, "", 6).map((b) => b.isMine),
      [false, false, false, true],
    );
    assert.deepEqual(
      histogramBars({ ...stats, median: null }).map((b) => b.isMedian),
      [false, false, false, false],
    );
  });

  test("no answers: no bins, and empty bins do not divide by zero", () => {
    assert.deepEqual(histogramBars({ n: 0, histogram: [] }), []);
    const [bar] = histogramBars({ n: 0, histogram: [{ from: 1, to: 2, count: 0 }] });
    assert.deepEqual([bar.pct, bar.width], [0, 0]);
  });
});

describe("cloudWords", () => {
  test("alphabetical, sized 1 (rarest) to 5 (most frequent) linearly", () => {
    const words = cloudWords([
      { word: "zeta", count: 1 },
      { word: "alpha", count: 9 },
      { word: "mid", count: 5 },
    ]);
    assert.deepEqual(
      words.map((w) => [w.word, w.size]),
      [
        ["alpha", 5],
        ["mid", 3],
        ["zeta", 1],
      ],
    );
  });

  test("equal counts are all mid-sized", () => {
    assert.deepEqual(
      cloudWords([
        { word: "b", count: 2 },
        { word: "a", count: 2 },
      ]).map((w) => [w.word, w.size]),
      [
        ["a", 3],
        ["b", 3],
      ],
    );
  });
});

test("scalePosition puts point 1 at 0%, the last point at 100%", () => {
  assert.equal(scalePosition(1, 5), 0);
  assert.equal(scalePosition(3, 5), 50);
  assert.equal(scalePosition(5, 5), 100);
  assert.equal(scalePosition(4.2, 5), 80);
  assert.equal(scalePosition(1, 1), 50);
});

test("CHOICE_KINDS are the kinds with counts per option", () => {
  assert.deepEqual([...CHOICE_KINDS].sort(), ["likert", "multi", "ranking", "single"]);
});

describe("renderResults", () => {
  let document;
  beforeEach(() => {
    document = installFakeDom();
  });

  function mount() {
    const list = document.createElement("ul");
    document.body.append(list);
    return list;
  }

  test("choice rows: labels as text, percent and count, bar width, the top row", () => {
    const poll = { ...single, options: [{ id: 11, label: ATTACK }, ...single.options.slice(1)] };
    const list = mount();
    renderResults(list, poll, { total: 4, counts: { 11: 3, 12: 1 } });
    const rows = list.querySelectorAll(":scope > .result-row");
    assert.equal(rows.length, 3);
    assert.equal(list.querySelectorAll("img").length, 0, "a label is never parsed as markup");
    assert.ok(list.outerHTML.includes("&lt;img src=x onerror=\"alert(1)\"&gt;"));
    assert.deepEqual(texts(list, ".result-label"), [ATTACK, "Bispecific antibody", "Best supportive care"]);
    assert.deepEqual(texts(list, ".result-percent"), ["75% (3)", "25% (1)", "0% (0)"]);
    assert.deepEqual(
      rows.map((r) => r.querySelector(".result-fill").style.width),
      ["75%", "25%", "0%"],
    );
    assert.deepEqual(
      rows.map((r) => r.classList.contains("is-top")),
      [true, false, false],
    );
    assert.equal(rows[0].getAttribute("aria-label"), `${ATTACK}: 75%, 3 votes`);
  });

  test("a new tally updates the same row nodes (so bars can animate)", () => {
    const list = mount();
    renderResults(list, single, { total: 1, counts: { 11: 1 } });
    const before = list.querySelectorAll(".result-row");
    renderResults(list, single, { total: 2, counts: { 11: 1, 13: 1 } });
    const after = list.querySelectorAll(".result-row");
    assert.ok(before.every((row, i) => row === after[i]));
    assert.deepEqual(texts(list, ".result-percent"), ["50% (1)", "0% (0)", "50% (1)"]);
  });

  test("the summary block follows the list: likert scale caption, preferred rationale", () => {
    const likert = {
      id: 3,
      kind: "likert",
      options: ["Poor", "Fair", "Good", "Very good", ATTACK].map((label, i) => ({ id: 31 + i, label })),
      preferred: { options: [34], revealed: true, rationale: ATTACK },
    };
    const list = mount();
    renderResults(list, likert, {
      total: 4,
      counts: { 32: 1, 34: 3 },
      scale: { mean: 3.5, median: 4, points: 5 },
    });
    const extra = list.nextElementSibling;
    assert.equal(extra.dataset.testid, "results-extra");
    assert.equal(
      extra.querySelector('[data-testid="scale-caption"]').textContent,
      `Mean 3.5 and median 4 (Very good) on a 5-point scale (1 = Poor, 5 = ${ATTACK}).`,
    );
    assert.equal(extra.querySelector(".preferred-rationale").textContent, ATTACK);
    assert.equal(extra.querySelectorAll("img").length, 0);
    assert.deepEqual(
      list.querySelectorAll(".result-row").map((r) => r.classList.contains("is-preferred")),
      [false, false, false, true, false],
    );
    // rationale: false highlights the preferred option without repeating the note
    const other = mount();
    renderResults(other, likert, { total: 0, counts: {}, scale: { mean: null } }, { rationale: false });
    assert.equal(other.nextElementSibling.querySelector('[data-testid="preferred-note"]'), null);
    assert.equal(other.nextElementSibling.querySelector('[data-testid="scale-summary"]').textContent, "No ratings yet.");
  });

  test("free text: approved answers as text only, the moderator's pending ones left out", () => {
    const poll = { id: 4, kind: "text", options: [] };
    const list = mount();
    const results = {
      total: 3,
      answers: [
        { id: 1, text: ATTACK, status: "approved" },
        { id: 2, text: "still waiting", status: "pending" },
        { id: 3, text: "fine" },
      ],
      words: [{ word: "<b>bold</b>", count: 2 }],
    };
    renderResults(list, poll, results);
    assert.deepEqual(texts(list, '[data-testid="answer"]'), [ATTACK, "fine"]);
    const cloud = list.nextElementSibling.querySelector('[data-testid="word-cloud"]');
    assert.equal(cloud.querySelector(".cloud-word").textContent, "<b>bold</b> (2)");
    assert.equal(list.parentNode.querySelectorAll("img, b").length, 0);
    // the cloud alone (the console lists the answers in its queue)
    const only = mount();
    renderResults(only, poll, results, { textView: "cloud" });
    assert.equal(only.querySelectorAll('[data-testid="answer"]').length, 0);
  });

  test("numeric: bins, median and the viewer's answer, the summary figures", () => {
    const poll = { id: 5, kind: "numeric", options: [], numeric: { unit: "mg" } };
    const list = mount();
    renderResults(
      list,
      poll,
      {
        total: 4,
        numeric: {
          n: 4,
          median: 3,
          mean: 3.25,
          min: 1,
          max: 6,
          histogram: [
            { from: 0, to: 2, count: 1 },
            { from: 2, to: 4, count: 2 },
            { from: 4, to: 6, count: 1 },
          ],
        },
      },
      { myValue: 5 },
    );
    assert.deepEqual(texts(list, ".result-percent"), ["25% (1)", "50% (2)", "25% (1)"]);
    const bins = list.querySelectorAll('[data-testid="histogram-bin"]');
    assert.deepEqual(
      bins.map((b) => [b.classList.contains("is-median"), b.classList.contains("is-mine")]),
      [
        [false, false],
        [true, false],
        [false, true],
      ],
    );
    assert.equal(list.getAttribute("aria-label"), "Answers in mg by range");
    const extra = list.nextElementSibling;
    assert.equal(extra.querySelector('[data-testid="numeric-median"]').textContent, "3 mg");
    assert.equal(extra.querySelector('[data-testid="numeric-mean"]').textContent, "3.3");
    assert.equal(extra.querySelector('[data-testid="numeric-n"]').textContent, "n = 4");
  });

  test("ranking: rows in Borda order with their places and scores", () => {
    const poll = {
      id: 6,
      kind: "ranking",
      options: [
        { id: 61, label: "A" },
        { id: 62, label: ATTACK },
      ],
    };
    const list = mount();
    renderResults(list, poll, {
      total: 2,
      ranking: [
        { option: 62, borda: 2, mean_rank: 1 },
        { option: 61, borda: 0, mean_rank: 2 },
      ],
    });
    const rows = list.querySelectorAll('[data-testid="ranking-row"]');
    assert.deepEqual(
      rows.map((r) => [r.dataset.rank, r.dataset.optionId, r.querySelector(".result-label").textContent]),
      [
        ["1", "62", ATTACK],
        ["2", "61", "A"],
      ],
    );
    assert.deepEqual(texts(list, '[data-testid="rank-borda"]'), ["Borda 2", "Borda 0"]);
    assert.equal(rows[0].querySelector(".result-fill").style.width, "100%");
    assert.equal(list.querySelectorAll("img").length, 0);
  });
});
