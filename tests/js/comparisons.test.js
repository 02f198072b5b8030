// comparisons.js: rounds side by side, transitions, panel versus audience, concordance and the
// split by profile, with their numbers and with labels kept as text.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import {
  heat,
  renderComparisons,
  renderSegments,
  roundCount,
  scaleMean,
  segmentName,
} from "../../static/js/comparisons.js";
import { installFakeDom, texts } from "./fake-dom.js";

const ATTACK = `<script>alert(1)</script>`;

const poll = {
  id: 8,
  kind: "single",
  options: [
    { id: 81, label: "Continue" },
    { id: 82, label: ATTACK },
  ],
};

describe("pure parts", () => {
  test("roundCount: exact for the poll shown, recovered from one-decimal percentages otherwise", () => {
    const shown = { poll: 8, total: 12, counts: { 81: 5, 82: 7 } };
    assert.equal(roundCount(poll, shown, 0), 5);
    assert.equal(roundCount(poll, shown, 1), 7);
    const earlier = { poll: 7, total: 7, percent: [28.6, 71.4] };
    assert.equal(roundCount(poll, earlier, 0), 2);
    assert.equal(roundCount(poll, earlier, 1), 5);
    assert.equal(roundCount(poll, earlier, 2), null, "no such option in that round");
    assert.equal(roundCount(poll, { poll: 7, total: 1000, percent: [50.0, 50.0] }, 0), null, "not exact from 1000 up");
  });

  test("heat: 0 for nobody, 4 for the largest cell, steps of a third between", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 6].map((n) => heat(n, 6)),
      [0, 1, 2, 2, 4],
    );
    assert.equal(heat(3, 3), 4);
  });

  test("segmentName", () => {
    assert.equal(segmentName({ segment: "Haematologist" }), "Haematologist");
    assert.equal(segmentName({ segment: "not stated" }), "Not stated");
    assert.equal(segmentName({ segment: "other" }), "Other (smaller groups combined)");
    assert.equal(segmentName({ segment: "other", suppressed: true }), "Other (too few to show)");
  });

  test("scaleMean counts the first option as point 1", () => {
    const scale = { options: [{ id: 1 }, { id: 2 }, { id: 3 }] };
    assert.equal(scaleMean(scale, { 1: 1, 3: 3 }, 4), 2.5);
    assert.equal(scaleMean(scale, { 2: 5 }, 5), 2);
  });
});

describe("renderComparisons", () => {
  let document;
  beforeEach(() => {
    document = installFakeDom();
  });

  function mount() {
    const box = document.createElement("div");
    document.body.append(box);
    return box;
  }

  test("nothing to compare: empty, and says so", () => {
    const box = mount();
    assert.equal(renderComparisons(box, poll, { total: 3, counts: { 81: 3 } }), false);
    assert.equal(box.childElementCount, 0);
    assert.equal(renderComparisons(box, null, null), false);
  });

  test("two rounds: shares per round, counts, and the change in points from the shares shown", () => {
    const box = mount();
    const results = {
      total: 12,
      counts: { 81: 9, 82: 3 },
      rounds: [
        { poll: 7, round: 1, total: 10, percent: [30.0, 70.0] },
        { poll: 8, round: 2, total: 12, counts: { 81: 9, 82: 3 }, percent: [75.0, 25.0] },
      ],
    };
    assert.equal(renderComparisons(box, poll, results), true);
    const section = box.querySelector('[data-testid="rounds"]');
    assert.equal(section.getAttribute("aria-label"), "Round 1 and round 2 side by side");
    const rows = box.querySelectorAll('[data-testid="compare-row"]');
    assert.deepEqual(
      rows.map((row) => texts(row, '[data-testid="round-percent"]')),
      [
        ["30% (3)", "75% (9)"],
        ["70% (7)", "25% (3)"],
      ],
    );
    assert.deepEqual(texts(box, '[data-testid="round-shift"]'), ["+45 pts", "\u221245 pts"]);
    assert.deepEqual(
      box.querySelectorAll('[data-testid="round-shift"]').map((cell) => cell.className),
      ["shift shift-up", "shift shift-down"],
    );
    assert.equal(rows[1].querySelector(".row-label").textContent, ATTACK);
    assert.equal(box.querySelectorAll("script").length, 0);
  });

  test("transitions: the matrix with its shading and spoken cells, the summary, the flow drawing", () => {
    const box = mount();
    const results = {
      total: 6,
      counts: { 81: 2, 82: 4 },
      rounds: [
        { poll: 7, round: 1, total: 6, percent: [50.0, 50.0] },
        { poll: 8, round: 2, total: 6, counts: { 81: 2, 82: 4 }, percent: [33.3, 66.7] },
      ],
      transitions: {
        from_poll: 7,
        to_poll: 8,
        from_options: [71, 72],
        to_options: [81, 82],
        matrix: [
          [2, 1],
          [0, 3],
        ],
        participants: 6,
        changed: 1,
      },
    };
    renderComparisons(box, poll, results);
    const section = box.querySelector('[data-testid="transitions"]');
    assert.equal(
      section.querySelector('[data-testid="transition-summary"]').textContent,
      "6 participants answered both rounds; 1 changed their answer.",
    );
    const cells = section.querySelectorAll('[data-testid="transition-cell"]');
    assert.deepEqual(
      cells.map((c) => [c.textContent, c.className]),
      [
        ["2", "matrix-cell heat-3 is-same"],
        ["1", "matrix-cell heat-2"],
        ["0", "matrix-cell heat-0"],
        ["3", "matrix-cell heat-4 is-same"],
      ],
    );
    assert.equal(cells[1].getAttribute("aria-label"), `Continue to ${ATTACK}: 1 participant`);
    assert.equal(section.querySelector("h3").textContent, "How answers moved from round 1 to round 2");
    const flow = section.querySelector('[data-testid="transition-flow"]');
    assert.equal(flow.getAttribute("aria-hidden"), "true");
    assert.equal(flow.querySelectorAll("path").length, 3, "one band per non-empty cell");
    assert.equal(box.querySelectorAll("script").length, 0);
  });

  test("panel versus audience, and the concordance figures", () => {
    const box = mount();
    const withPreferred = { ...poll, preferred: { options: [81], revealed: true } };
    const results = {
      total: 8,
      counts: { 81: 6, 82: 2 },
      panel: { total: 4, counts: { 81: 1, 82: 3 } },
      concordance: {
        preferred: { share: 0.75, agreeing: 6 },
        panel_majority: { share: 0.25, agreeing: 2 },
      },
    };
    assert.equal(renderComparisons(box, withPreferred, results, { level: 2 }), true);
    assert.equal(box.querySelector("h2").textContent, "Expert panel and audience");
    assert.deepEqual(texts(box, '[data-testid="audience-percent"]'), ["75% (6)", "25% (2)"]);
    assert.deepEqual(texts(box, '[data-testid="panel-percent"]'), ["25% (1)", "75% (3)"]);
    assert.equal(box.querySelectorAll('[data-testid="compare-row"] .tag-preferred').length, 1);
    assert.equal(
      box.querySelector('[data-testid="concordance-preferred"]').textContent,
      "75% of the audience chose the preferred answer (6 of 8)",
    );
    assert.equal(
      box.querySelector('[data-testid="concordance-panel"]').textContent,
      "25% of the audience chose the panel\u2019s majority answer (2 of 8)",
    );
  });

  test("on multiple choice the concordance says it counts ballots with preferred options only", () => {
    const box = mount();
    const multi = { ...poll, kind: "multi", preferred: { options: [81], revealed: true } };
    const results = { total: 10, counts: { 81: 10, 82: 3 }, concordance: { preferred: { share: 0.7, agreeing: 7 } } };
    renderComparisons(box, multi, results, { level: 2 });
    assert.equal(
      box.querySelector('[data-testid="concordance-preferred"]').textContent,
      "70% of the audience chose only preferred answers (nothing else ticked) (7 of 10)",
    );
  });

  test("a hidden preferred answer gives no concordance figure to the room, only to the moderator", () => {
    const hidden = { ...poll, preferred: { options: [81], revealed: false } };
    const results = { total: 2, counts: { 81: 1 }, concordance: { preferred: { share: 0.5, agreeing: 1 } } };
    const room = mount();
    renderComparisons(room, hidden, results);
    assert.equal(room.querySelector('[data-testid="concordance-preferred"]'), null);
    const moderator = mount();
    renderComparisons(moderator, hidden, results, { showHiddenPreferred: true });
    assert.ok(moderator.querySelector('[data-testid="concordance-preferred"]'));
  });
});

describe("renderSegments", () => {
  let document;
  beforeEach(() => {
    document = installFakeDom();
  });

  test("one card per segment, suppressed ones without numbers, the likert mean", () => {
    const likert = {
      id: 9,
      kind: "likert",
      options: [
        { id: 91, label: "Low" },
        { id: 92, label: "Mid" },
        { id: 93, label: ATTACK },
      ],
    };
    const box = document.createElement("div");
    renderSegments(
      box,
      likert,
      [
        { segment: "Haematologist", total: 4, counts: { 91: 1, 93: 3 } },
        { segment: "other", total: 2, suppressed: true },
      ],
      { label: "Specialty" },
    );
    assert.equal(box.querySelector("h3").textContent, "By specialty");
    const cards = box.querySelectorAll('[data-testid="segment"]');
    assert.deepEqual(
      cards.map((c) => [c.dataset.segment, c.querySelector("h4").textContent, c.className]),
      [
        ["Haematologist", "Haematologist", "segment-card"],
        ["other", "Other (too few to show)", "segment-card is-suppressed is-other"],
      ],
    );
    assert.deepEqual(texts(cards[0], ".segment-value"), ["25%", "0%", "75%"]);
    assert.deepEqual(texts(cards[0], ".segment-note"), ["Mean 2.5 of 3"]);
    assert.equal(cards[1].querySelectorAll(".segment-value").length, 0);
    assert.match(cards[1].textContent, /Hidden to protect privacy/);
    assert.equal(box.querySelectorAll("script").length, 0);
  });

  test("no entries yet, and no poll", () => {
    const box = document.createElement("div");
    renderSegments(box, { id: 1, kind: "single", options: [] }, [], {});
    assert.equal(box.querySelector("p").textContent, "No responses to split yet.");
    renderSegments(box, null, null);
    assert.equal(box.childElementCount, 0);
  });
});

test("a suppressed panel (under the small-cell size) is not shown as zeros", async () => {
  const { shownPanel } = await import("../../static/js/comparisons.js");
  assert.equal(shownPanel({ panel: { total: 1, suppressed: true } }), null);
  assert.equal(shownPanel({}), null);
  const panel = { total: 5, counts: { 1: 5 } };
  assert.equal(shownPanel({ panel }), panel);
});
