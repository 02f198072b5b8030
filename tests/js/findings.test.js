// console-findings.js: a go-live refused by the identifier guard links to each flagged case's page.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { findingLinks, findingList } from "../../static/js/console-findings.js";
import { installFakeDom } from "./fake-dom.js";

const BASE = "/author/cases/0/";
const refused = {
  code: "unacknowledged_identifiers",
  message: "1 passage(s) may identify a patient: …",
  cases: [
    { id: 12, title: "Relapsed myeloma" },
    { id: 30, title: `<img src=x onerror="alert(1)">` },
  ],
};

beforeEach(() => installFakeDom());

test("each flagged case links to its workspace page, at its findings", () => {
  assert.deepEqual(
    findingLinks(refused, BASE).map((link) => link.href),
    ["/author/cases/12/#findings", "/author/cases/30/#findings"],
  );
  assert.match(findingLinks(refused, BASE)[0].text, /Relapsed myeloma/);
});

test("other errors, missing or odd case ids give no links", () => {
  assert.deepEqual(findingLinks({ ...refused, code: "invalid_transition" }, BASE), []);
  assert.deepEqual(findingLinks({ code: "unacknowledged_identifiers", message: "x" }, BASE), []);
  assert.deepEqual(findingLinks({ ...refused, cases: [{ id: "12/../x" }, { id: -1 }, null] }, BASE), []);
  assert.equal(findingList({ code: "rate_limited" }, BASE), null);
});

test("the list is links with the titles as text, never markup", () => {
  const list = findingList(refused, BASE);
  const anchors = list.querySelectorAll("a");
  assert.equal(anchors.length, 2);
  assert.equal(anchors[0].getAttribute("href"), "/author/cases/12/#findings");
  assert.equal(list.querySelectorAll("img").length, 0);
  assert.match(list.textContent, /<img src=x/);
});
