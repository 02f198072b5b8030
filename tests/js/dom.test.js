// dom.js: building elements from untrusted strings, and the small formatting helpers.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import {
  byTestId,
  changed,
  forget,
  h,
  heading,
  num,
  optionLabel,
  percent,
  plural,
  pointsText,
  show,
  svg,
} from "../../static/js/dom.js";
import { ngettext, setCatalog } from "../../static/js/i18n.js";
import { installFakeDom } from "./fake-dom.js";

const ATTACK = `<img src=x onerror="alert(1)">`;

describe("h", () => {
  beforeEach(() => installFakeDom());

  test("text and children are text nodes, never markup", () => {
    const node = h("p", { class: "x", text: ATTACK });
    assert.equal(node.textContent, ATTACK);
    assert.equal(node.querySelectorAll("img").length, 0);
    assert.equal(node.outerHTML, `<p class="x">&lt;img src=x onerror="alert(1)"&gt;</p>`);
    const list = h("ul", {}, ATTACK, [h("li", { text: "a" }), [42]]);
    assert.equal(list.childNodes[0].textContent, ATTACK);
    assert.equal(list.outerHTML, `<ul>&lt;img src=x onerror="alert(1)"&gt;<li>a</li>42</ul>`);
  });

  test("attribute values stay inside their attribute", () => {
    const node = h("li", { "aria-label": `A" onmouseover="alert(1)`, "data-option-id": 7 });
    assert.equal(node.getAttribute("aria-label"), `A" onmouseover="alert(1)`);
    assert.equal(node.outerHTML, `<li aria-label="A&quot; onmouseover=&quot;alert(1)" data-option-id="7"></li>`);
    assert.equal(node.dataset.optionId, "7");
  });

  test("null, undefined and false attributes and children are left out; true is an empty attribute", () => {
    const node = h("input", { type: "radio", hidden: true, disabled: false, min: null, max: undefined }, null, false);
    assert.deepEqual([...node.attributes.keys()], ["type", "hidden"]);
    assert.equal(node.getAttribute("hidden"), "");
    assert.equal(node.childNodes.length, 0);
  });

  test("on* functions become listeners, not attributes", () => {
    let clicked = 0;
    const button = h("button", { onclick: () => (clicked += 1), onmouseover: "alert(1)" });
    assert.equal(button.hasAttribute("onclick"), false);
    button.dispatch("click");
    assert.equal(clicked, 1);
    // A string is no function: it stays an inert attribute value (h never evaluates it).
    assert.equal(button.getAttribute("onmouseover"), "alert(1)");
  });

  test("svg builds namespaced elements with case-kept attributes", () => {
    const drawing = svg("svg", { viewBox: "0 0 10 10", class: "flow" }, svg("text", { text: ATTACK }), null);
    assert.equal(drawing.namespaceURI, "http://www.w3.org/2000/svg");
    assert.equal(drawing.getAttribute("viewBox"), "0 0 10 10");
    assert.equal(drawing.childNodes.length, 1);
    assert.equal(drawing.querySelector("text").textContent, ATTACK);
  });

  test("heading clamps its level to h1..h6", () => {
    assert.equal(heading(0, {}, "t").tagName, "H1");
    assert.equal(heading(4, { class: "c" }, "t").outerHTML, `<h4 class="c">t</h4>`);
    assert.equal(heading(9, {}, "t").tagName, "H6");
  });

  test("byTestId and show", () => {
    const root = h("div", {}, h("span", { "data-testid": "a" }), h("span", { "data-testid": "b", text: "B" }));
    assert.equal(byTestId("b", root).textContent, "B");
    assert.equal(byTestId("c", root), null);
    const node = byTestId("a", root);
    show(node, false);
    assert.equal(node.hidden, true);
    show(node, true);
    assert.equal(node.hidden, false);
    show(null, true); // no node: nothing to do
  });
});

describe("changed", () => {
  test("is true only when the data differ from the last render of that node", () => {
    const node = {};
    const other = {};
    assert.equal(changed(node, { a: [1, 2] }), true);
    assert.equal(changed(node, { a: [1, 2] }), false);
    assert.equal(changed(other, { a: [1, 2] }), true, "each node remembers its own data");
    assert.equal(changed(node, { a: [1, 3] }), true);
    forget(node);
    assert.equal(changed(node, { a: [1, 3] }), true, "forget() makes the next call re-render");
  });
});

describe("formatting", () => {
  afterEach(() => setCatalog(null));

  test("plural fills the ngettext form with the number", () => {
    const votes = (n) => plural(n, ngettext("%s vote", "%s votes", n));
    assert.equal(votes(1), "1 vote");
    assert.equal(votes(0), "0 votes");
    assert.equal(votes(2), "2 votes");
    assert.equal(votes(1234), "1,234 votes");
  });

  test("numbers and points follow the page's language", () => {
    setCatalog({ language: "de", plural: "nplurals=2; plural=(n != 1);", messages: { "%s pts": "%s Pp." } });
    assert.equal(num(4.25), "4,3");
    assert.equal(plural(1234, "%s Stimmen"), "1.234 Stimmen");
    assert.equal(pointsText(-19), "\u221219 Pp.");
    setCatalog({ language: "fr", plural: "nplurals=2; plural=(n > 1);", messages: {} });
    assert.equal(num(0.5), "0,5");
  });

  test("percent rounds to whole points and is 0 without a total", () => {
    assert.equal(percent(1, 3), 33);
    assert.equal(percent(2, 3), 67);
    assert.equal(percent(1, 8), 13);
    assert.equal(percent(3, 3), 100);
    assert.equal(percent(5, 0), 0);
  });

  test("num keeps at most the given decimals and no trailing zeros", () => {
    assert.equal(num(4.25), "4.3");
    assert.equal(num(6), "6");
    assert.equal(num(0.5), "0.5");
    assert.equal(num(2.0), "2");
    assert.equal(num(3.14159, 2), "3.14");
    assert.equal(num("7.04"), "7");
    assert.equal(num(null), "–");
    assert.equal(num(undefined), "–");
    assert.equal(num("abc"), "–");
  });

  test("pointsText signs a change in percentage points", () => {
    assert.equal(pointsText(8), "+8 pts");
    assert.equal(pointsText(-19), "\u221219 pts");
    assert.equal(pointsText(0), "\u00b10 pts");
  });

  test("optionLabel finds by id whatever its type", () => {
    const poll = { options: [{ id: 3, label: "Three" }] };
    assert.equal(optionLabel(poll, "3"), "Three");
    assert.equal(optionLabel(poll, 3), "Three");
    assert.equal(optionLabel(poll, 4), "Option 4");
    assert.equal(optionLabel({}, 1), "Option 1");
  });
});
