// Small DOM helpers shared by every screen. Server data (case text, labels, answers) is
// untrusted: every string goes through textContent or a checked attribute, never innerHTML.
// Sizes and positions are set through the CSSOM (node.style.x = …), which the CSP allows.

import { formatNumber, gettext, interpolate } from "./i18n.js";

/** Create an element: h("p", {class: "x", text: "y"}, child, ...). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with presentation attributes (never a style attribute). */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.setAttribute("class", value);
    else if (key === "text") node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) if (child) node.append(child);
  return node;
}

export function byTestId(id, root = document) {
  return root.querySelector(`[data-testid="${id}"]`);
}

export function show(node, visible) {
  if (node) node.hidden = !visible;
}

const renderedWith = new WeakMap();

/** Re-render only when the data changed (keeps focus, selection and scroll position stable). */
export function changed(node, data) {
  const key = JSON.stringify(data);
  if (renderedWith.get(node) === key) return false;
  renderedWith.set(node, key);
  return true;
}

/** Forget what `node` was rendered with, so the next changed() call re-renders it. */
export function forget(node) {
  renderedWith.delete(node);
}

/** A count in a sentence: `form` is the ngettext() form picked for n, with "%s" where the number
 * goes (plural(3, ngettext("%s vote", "%s votes", 3)) is "3 votes"); n is formatted for the page. */
export function plural(n, form) {
  return interpolate(form, [formatNumber(n, { maximumFractionDigits: 0 })]);
}

export function percent(count, total) {
  return total > 0 ? Math.round((100 * count) / total) : 0;
}

/** A number for people in the page's language: at most `places` decimals, no trailing zeros
 * ("4.2", "6", "0.5"; "4,2" in French and German). For display only, never for an input's value. */
export function num(value, places = 1) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  const factor = 10 ** places;
  return formatNumber(Math.round(Number(value) * factor) / factor, { maximumFractionDigits: places });
}

/** "+8 pts", "−19 pts", "±0 pts": a change in percentage points, in the page's language. */
export function pointsText(delta) {
  const sign = delta > 0 ? "+" : delta < 0 ? "\u2212" : "\u00b1";
  // Translators: a change in percentage points; %s is the signed number ("+8", "−19").
  return interpolate(gettext("%s pts"), [`${sign}${formatNumber(Math.abs(delta), { maximumFractionDigits: 0 })}`]);
}

/** Heading element h1–h6 (level clamped). */
export function heading(level, attrs, text) {
  return h(`h${Math.min(Math.max(level, 1), 6)}`, { ...attrs, text });
}

/** A label for option `id` of `poll` ("Option 3" if unknown). */
export function optionLabel(poll, id) {
  const option = (poll.options || []).find((o) => String(o.id) === String(id));
  return option ? option.label : interpolate(gettext("Option %s"), [id]);
}
