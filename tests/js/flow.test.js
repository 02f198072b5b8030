// flow.js: the geometry of the transition drawing, and its SVG.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { flowDrawing, flowLayout } from "../../static/js/flow.js";
import { installFakeDom } from "./fake-dom.js";

const close = (a, b) => Math.abs(a - b) < 1e-9;

describe("flowLayout", () => {
  test("nobody answered both rounds: nothing to draw", () => {
    assert.equal(
      flowLayout(
        [
          [0, 0],
          [0, 0],
        ],
        ["A", "B"],
        ["A", "B"],
      ),
      null,
    );
    assert.equal(flowLayout([], [], []), null);
  });

  test("one band per non-empty cell, kept answers told apart from changed ones", () => {
    const layout = flowLayout(
      [
        [5, 1, 0],
        [0, 2, 2],
      ],
      ["A", "B"],
      ["A", "B", "C"],
    );
    assert.deepEqual(
      layout.bands.map((b) => [b.from, b.to, b.count, b.stay]),
      [
        [0, 0, 5, true],
        [0, 1, 1, false],
        [1, 1, 2, true],
        [1, 2, 2, false],
      ],
    );
    assert.deepEqual(
      layout.nodes.map((n) => [n.side, n.index, n.n, n.text]),
      [
        ["from", 0, 6, "A \u00b7 6"],
        ["from", 1, 4, "B \u00b7 4"],
        ["to", 0, 5, "5 \u00b7 A"],
        ["to", 1, 3, "3 \u00b7 B"],
        ["to", 2, 2, "2 \u00b7 C"],
      ],
    );
  });

  test("bands stack to fill each node exactly, thickness in proportion to the count", () => {
    const matrix = [
      [5, 1, 0],
      [0, 2, 2],
    ];
    const layout = flowLayout(matrix, ["A", "B"], ["A", "B", "C"]);
    const scale = layout.bands[0].thick / layout.bands[0].count;
    for (const band of layout.bands) assert.ok(close(band.thick, band.count * scale));
    for (const node of layout.nodes) {
      const key = node.side === "from" ? "from" : "to";
      const mine = layout.bands.filter((b) => b[key] === node.index);
      const edge = node.side === "from" ? "ya" : "yb";
      assert.ok(close(mine[0][edge], node.y), "the first band starts at the node's top");
      assert.ok(close(mine.reduce((sum, b) => sum + b.thick, 0), node.h), "the bands fill the node");
      mine.slice(1).forEach((band, k) => assert.ok(close(band[edge], mine[k][edge] + mine[k].thick)));
    }
  });

  test("nodes on each side do not overlap and stay inside the drawing", () => {
    const layout = flowLayout(
      [
        [3, 0, 1],
        [0, 0, 0],
        [2, 4, 1],
      ],
      ["A", "B", "C"],
      ["A", "B", "C"],
    );
    assert.ok(layout.height >= 160);
    for (const side of ["from", "to"]) {
      const nodes = layout.nodes.filter((n) => n.side === side);
      nodes.forEach((node, k) => {
        assert.ok(node.y >= 0 && node.y + node.h <= layout.height);
        if (k) assert.ok(node.y >= nodes[k - 1].y + nodes[k - 1].h, `${side} node ${k} overlaps`);
      });
    }
    assert.equal(layout.nodes.filter((n) => n.side === "from").length, 2, "an answer nobody gave gets no node");
  });
});

describe("flowDrawing", () => {
  beforeEach(() => installFakeDom());

  test("an SVG hidden from assistive technology: a path per band, a box and a label per node", () => {
    const drawing = flowDrawing(
      [
        [2, 1],
        [0, 3],
      ],
      ["A", "B"],
      ["A", "B"],
    );
    assert.equal(drawing.localName, "svg");
    assert.equal(drawing.getAttribute("aria-hidden"), "true");
    assert.equal(drawing.getAttribute("viewBox"), "0 0 434 160");
    assert.deepEqual(
      drawing.querySelectorAll("path").map((p) => p.getAttribute("class")),
      ["flow-band flow-stay", "flow-band flow-move", "flow-band flow-stay"],
    );
    assert.equal(drawing.querySelectorAll("rect").length, 4);
    assert.deepEqual(
      drawing.querySelectorAll("text").map((t) => [t.textContent, t.getAttribute("text-anchor")]),
      [
        ["A \u00b7 3", "end"],
        ["B \u00b7 3", "end"],
        ["2 \u00b7 A", null],
        ["4 \u00b7 B", null],
      ],
    );
    assert.equal(flowDrawing([[0]], ["A"], ["A"]), null);
  });
});
