import assert from "node:assert/strict";
import { test } from "node:test";

import {
  clickerAction,
  fitScale,
  packPages,
  pageText,
  stageFocusKey,
  stagePage,
  screenDescription,
  stagePoint,
  stageScreen,
  unblankScreen,
} from "../../static/js/stage.js";

const CASE = { id: 3, title: "Case Summary 2" };
const POLL = { id: 7, question: "What next?", state: "open", results_visible: false };

function state(screen, extra = {}) {
  return { event: { status: "live", screen }, case: CASE, poll: POLL, teaching_points: [], ...extra };
}

test("the stage shows the moderator's choice when there is something to show", () => {
  assert.equal(stageScreen(state("case")), "case");
  assert.equal(stageScreen(state("poll")), "poll");
  assert.equal(stageScreen(state("blank")), "blank");
  assert.equal(stageScreen(state("join")), "join");
  assert.equal(stageScreen(state("disclosures")), "disclosures");
  assert.equal(screenDescription(state("disclosures")), "The faculty's disclosures");
  assert.equal(stageScreen(state("teaching", { teaching_points: [{ id: 1 }] })), "teaching");
  // The questions screen shows even before any question is approved (it invites the room to ask).
  assert.equal(stageScreen(state("questions")), "questions");
});

test("the stage falls back to what exists, and an ended event shows its closing screen", () => {
  assert.equal(stageScreen(null), "join");
  assert.equal(stageScreen(state("poll", { poll: null })), "case");
  assert.equal(stageScreen(state("poll", { poll: null, case: null })), "join");
  assert.equal(stageScreen(state("teaching")), "case");
  assert.equal(stageScreen(state("case", { case: null })), "join");
  assert.equal(stageScreen({ ...state("poll"), event: { status: "ended", screen: "poll" } }), "ended");
  assert.equal(stageScreen(state("slides")), "join");
});

test("the console describes the stage in words", () => {
  assert.equal(screenDescription(state("case")), "The case: Case Summary 2");
  assert.equal(screenDescription(state("poll")), "The poll: “What next?”");
  assert.equal(
    screenDescription(state("poll", { poll: { ...POLL, state: "closed", results_visible: true } })),
    "The results of “What next?”",
  );
  assert.equal(screenDescription(state("blank")), "Nothing: the screen is blank");
  assert.match(screenDescription(state("questions")), /^Audience questions/);
});

test("fitScale finds the largest scale that fits, and the floor when none does", () => {
  assert.equal(fitScale(() => true), 1);
  const scale = fitScale((s) => s <= 0.62);
  assert.ok(scale <= 0.62 && scale > 0.6, String(scale));
  assert.equal(fitScale(() => false, { min: 0.4 }), 0.4);
});

test("the blank key brings back the poll, else the case, else the join screen", () => {
  assert.equal(unblankScreen(state("blank")), "poll");
  assert.equal(unblankScreen(state("blank", { poll: null })), "case");
  assert.equal(unblankScreen(state("blank", { poll: null, case: null })), "join");
});

test("a clicker's keys: arrows and page keys move, B and . blank, modifiers leave the browser alone", () => {
  const key = (k, extra = {}) => clickerAction({ key: k, ...extra });
  assert.equal(key("PageDown"), "next");
  assert.equal(key("ArrowRight"), "next");
  assert.equal(key("PageUp"), "back");
  assert.equal(key("ArrowLeft"), "back");
  assert.equal(key("b"), "blank");
  assert.equal(key("."), "blank");
  assert.equal(key("a"), null);
  assert.equal(key("ArrowRight", { altKey: true }), null);
});

test("the teaching screen shows the chosen point, or the last revealed one", () => {
  const points = [
    { id: 1, title: "One" },
    { id: 2, title: "Two" },
  ];
  const teaching = (chosen) => ({ ...state("teaching", { teaching_points: points }), event: { status: "live", screen: "teaching", teaching_point: chosen } });
  assert.equal(stagePoint(teaching(1)).point.id, 1);
  assert.equal(stagePoint(teaching(null)).point.id, 2);
  assert.equal(stagePoint(teaching(9)).index, 1);
  assert.equal(stagePoint(state("case")), null);
  assert.equal(screenDescription(teaching(1)), "Teaching point 1 of 2: One");
});

test("who is here reads as joined, then voted when a poll is on screen", async () => {
  const { presenceText } = await import("../../static/js/presence.js");
  assert.equal(presenceText(12, 9), "12 joined · 9 voted");
  assert.equal(presenceText(1, null), "1 joined");
  assert.equal(presenceText(null, null), "");
});

test("packPages fills each page with the longest run that fits and keeps a heading with what follows", () => {
  const units = ["h", "a", "b", "h", "c", "d", "e"];
  // A page holds three units.
  const fits = (start, end) => end - start <= 3;
  const heading = (u) => u === "h";
  assert.deepEqual(packPages(units, fits, heading), [
    [0, 3],
    [3, 6],
    [6, 7],
  ]);
  // "h" would end the first page: it moves to the next with what it heads.
  assert.deepEqual(packPages(["a", "b", "h", "c"], fits, heading), [
    [0, 2],
    [2, 4],
  ]);
  // A unit that fits nowhere still gets a page of its own: nothing is lost.
  assert.deepEqual(packPages(["a", "b"], () => false), [
    [0, 1],
    [1, 2],
  ]);
});

test("the page up belongs to the focus it was reported for", () => {
  const onCase = {
    event: { status: "live", screen: "case", page: { focus: "case:4", index: 1, count: 3 } },
    case: { id: 4 },
    poll: null,
    teaching_points: [],
  };
  assert.equal(stageFocusKey(onCase), "case:4");
  assert.deepEqual(stagePage(onCase), { index: 1, count: 3 });
  assert.equal(pageText(stagePage(onCase)), "Page 2 of 3");
  // Another case on screen: the old pages do not apply.
  const other = { ...onCase, case: { id: 5 } };
  assert.deepEqual(stagePage(other), { index: 0, count: 1 });
  assert.equal(pageText(stagePage(other)), "");
  const poll = { ...onCase, event: { ...onCase.event, screen: "poll" }, poll: { id: 7, results_visible: true } };
  assert.equal(stageFocusKey(poll), "poll:7:results");
});
