// A flow drawing of a transition matrix (round 1 answers on the left, round 2 answers on the
// right, a band per "from → to" pair as wide as its count). Purely visual: the matrix table
// next to it is the accessible version, so the drawing is hidden from assistive technology.

import { svg } from "./dom.js";
import { formatNumber } from "./i18n.js";

const WIDTH = 420;
const NODE_W = 14;
const GAP = 10;
const LABEL_ROOM = 64;

function stack(sizes, height, scale) {
  const used = sizes.reduce((a, b) => a + b, 0) * scale + GAP * Math.max(0, sizes.filter(Boolean).length - 1);
  let y = Math.max(0, (height - used) / 2);
  return sizes.map((size) => {
    const box = { y, h: size * scale };
    if (size) y += box.h + GAP;
    return box;
  });
}

/**
 * The geometry of the drawing of `matrix[i][j]` (from answer i to answer j), or null when nobody
 * answered both rounds: `height` of the view box, one band per non-empty cell (its SVG path `d`,
 * `thick` as its count, `stay` when the answer did not change), and one node per answer that
 * anyone gave (`side` "from" or "to", its box, count `n` and `text` with the short label).
 * Bands leave and reach each node stacked in order, so they fill it exactly.
 */
export function flowLayout(matrix, fromLabels, toLabels) {
  const rows = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const columns = toLabels.map((_, j) => matrix.reduce((sum, row) => sum + (row[j] || 0), 0));
  const total = rows.reduce((a, b) => a + b, 0);
  if (!total) return null;
  const height = Math.max(160, 34 * Math.max(rows.filter(Boolean).length, columns.filter(Boolean).length) + 40);
  const scale = (height - 20 - GAP * Math.max(rows.length, columns.length)) / total;
  const left = stack(rows, height, scale);
  const right = stack(columns, height, scale);
  const x0 = LABEL_ROOM;
  const x1 = WIDTH - LABEL_ROOM;
  const bands = [];
  const outUsed = rows.map(() => 0);
  const inUsed = columns.map(() => 0);
  matrix.forEach((row, i) =>
    row.forEach((count, j) => {
      if (!count) return;
      const thick = count * scale;
      const ya = left[i].y + outUsed[i];
      const yb = right[j].y + inUsed[j];
      outUsed[i] += thick;
      inUsed[j] += thick;
      const mid = (x0 + NODE_W + x1) / 2;
      const d = [
        `M${x0 + NODE_W},${ya}`,
        `C${mid},${ya} ${mid},${yb} ${x1},${yb}`,
        `L${x1},${yb + thick}`,
        `C${mid},${yb + thick} ${mid},${ya + thick} ${x0 + NODE_W},${ya + thick}`,
        "Z",
      ].join(" ");
      bands.push({ from: i, to: j, count, ya, yb, thick, d, stay: i === j });
    }),
  );
  const nodes = [];
  rows.forEach((n, i) => {
    if (!n) return;
    nodes.push({ side: "from", index: i, n, x: x0, y: left[i].y, h: left[i].h, text: `${fromLabels[i]} \u00b7 ${formatNumber(n)}` });
  });
  columns.forEach((n, j) => {
    if (!n) return;
    nodes.push({ side: "to", index: j, n, x: x1, y: right[j].y, h: right[j].h, text: `${formatNumber(n)} \u00b7 ${toLabels[j]}` });
  });
  return { width: WIDTH + NODE_W, height, bands, nodes };
}

/**
 * An <svg> drawing `matrix[i][j]` with short `fromLabels`/`toLabels` (option letters), or null
 * when nobody answered both rounds.
 */
export function flowDrawing(matrix, fromLabels, toLabels) {
  const layout = flowLayout(matrix, fromLabels, toLabels);
  if (!layout) return null;
  const bands = layout.bands.map((band) =>
    svg("path", { d: band.d, class: band.stay ? "flow-band flow-stay" : "flow-band flow-move" }),
  );
  const nodes = layout.nodes.flatMap((node) => {
    const from = node.side === "from";
    return [
      svg("rect", { x: node.x, y: node.y, width: NODE_W, height: node.h, class: "flow-node" }),
      svg("text", {
        x: from ? node.x - 8 : node.x + NODE_W + 8,
        y: node.y + node.h / 2,
        class: "flow-label",
        "text-anchor": from ? "end" : null,
        "dominant-baseline": "middle",
        text: node.text,
      }),
    ];
  });
  return svg(
    "svg",
    {
      class: "flow",
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      "aria-hidden": "true",
      focusable: "false",
      "data-testid": "transition-flow",
    },
    bands,
    nodes,
  );
}
