// live.js without a network: which frames win, which carry the tally, and the vote outbox
// across drops and reloads (the socket is a stand-in that records what would be sent).
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { LiveConnection, applyQuestionsDelta, backoffDelay, carriesTally, newRef } from "../../static/js/live.js";
import { MemoryStorage, installStorage } from "./storage.js";

const CONFIG = { code: "ABC123", ws_path: "/ws/e/ABC123/" };
const event = { id: 1, code: "ABC123", title: "Tumour board", status: "live" };
const state = (version, extra = {}) => ({ type: "state", version, event, ...extra });
const results = (poll, version, extra = {}) => ({ type: "results", poll, total: 3, version, ...extra });

describe("carriesTally", () => {
  test("the live total alone (hidden results, a vote's ack) carries no tally", () => {
    assert.equal(carriesTally({ type: "results", poll: 7, total: 4, version: 1 }), false);
    assert.equal(carriesTally({ type: "results", poll: 7, total: 4, version: 1, state: "open" }), false);
    assert.equal(carriesTally(null), false);
    assert.equal(carriesTally(undefined), false);
    assert.equal(carriesTally("counts"), false);
  });

  test("each kind's tally does, even an empty one", () => {
    assert.equal(carriesTally(results(7, 1, { counts: {} })), true);
    assert.equal(carriesTally(results(7, 1, { numeric: { n: 0, histogram: [] } })), true);
    assert.equal(carriesTally(results(7, 1, { answers: [], words: [] })), true);
    assert.equal(carriesTally(results(7, 1, { counts: {}, ranking: [] })), true);
    assert.equal(carriesTally(results(7, 1, { counts: {}, scale: { mean: null } })), true);
  });
});

test("backoffDelay doubles from 0.5 s to at most 15 s, jittered by ±50%", () => {
  assert.equal(backoffDelay(0, () => 0), 250);
  assert.equal(backoffDelay(0, () => 0.5), 500);
  assert.equal(backoffDelay(0, () => 1), 750);
  assert.equal(backoffDelay(3, () => 0.5), 4000);
  assert.equal(backoffDelay(5, () => 0.5), 15000);
  assert.equal(backoffDelay(50, () => 1), 22500);
  assert.equal(backoffDelay(50, () => 0), 7500);
});

test("newRef: 24 hex digits, a new one each time", () => {
  const refs = new Set(Array.from({ length: 100 }, () => newRef()));
  assert.equal(refs.size, 100);
  for (const ref of refs) assert.match(ref, /^[0-9a-f]{24}$/);
});

/** A LiveConnection whose socket is open (or not) and records the frames it sends. */
function connection(handlers = {}, { open = false } = {}) {
  const live = new LiveConnection(CONFIG, handlers);
  live.sent = [];
  if (open) connect(live);
  return live;
}

function connect(live) {
  live.ws = { readyState: 1, send: (data) => live.sent.push(JSON.parse(data)), close() {} };
  live.synced = false;
}

describe("LiveConnection frames", () => {
  let savedWebSocket;
  beforeEach(() => {
    installStorage(new MemoryStorage());
    savedWebSocket = globalThis.WebSocket;
    globalThis.WebSocket = { OPEN: 1 };
  });
  afterEach(() => {
    globalThis.WebSocket = savedWebSocket;
  });

  test("older state and results frames are dropped; a resync of the same version is applied", () => {
    const seen = [];
    const live = connection({
      onState: (s) => seen.push(`state ${s.version}`),
      onResults: (r) => seen.push(`results ${r.poll}@${r.version}`),
    });
    live.handleFrame(state(5), "ws");
    live.handleFrame(state(4), "ws");
    live.handleFrame(state(5), "ws");
    live.handleFrame(results(7, 100), "ws");
    live.handleFrame(results(7, 90), "ws");
    live.handleFrame(results(8, 50), "ws");
    live.handleFrame(state(6, { results: results(7, 80, { total: 0 }) }), "ws");
    assert.deepEqual(seen, ["state 5", "state 5", "results 7@100", "results 8@50", "state 6"]);
    assert.equal(live.resultsFor(7).latest.version, 100, "the state's embedded tally was older");
  });

  test("another event's state is applied whatever its version", () => {
    const live = connection();
    live.handleFrame(state(50), "ws");
    live.handleFrame({ ...state(3), event: { ...event, id: 2 } }, "ws");
    assert.equal(live.state.event.id, 2);
  });

  test("`counted` keeps the newest frame with the tally while later ones carry only the total", () => {
    const live = connection();
    assert.deepEqual(live.resultsFor(7), { latest: null, counted: null });
    const revealed = results(7, 10, { counts: { 21: 2, 22: 1 } });
    live.handleFrame(revealed, "ws");
    assert.equal(live.resultsFor(7).counted, revealed);
    const hidden = results(7, 20, { total: 4 });
    live.handleFrame(hidden, "ws");
    assert.deepEqual(live.resultsFor(7), { latest: hidden, counted: revealed });
    // A vote's ack carries the total right after the vote: newer total, same tally.
    live.handleFrame({ type: "ack", ref: "x", poll: 7, options: [21], results: results(7, 30, { total: 5 }) }, "ws");
    assert.equal(live.resultsFor(7).latest.total, 5);
    assert.equal(live.resultsFor(7).counted, revealed);
    const newer = results(7, 40, { total: 5, counts: { 21: 3, 22: 2 } });
    live.handleFrame(newer, "ws");
    assert.deepEqual(live.resultsFor(7), { latest: newer, counted: newer });
    live.handleFrame(results(7, 35, { counts: {} }), "ws");
    assert.equal(live.resultsFor(7).counted, newer, "an older tally never replaces a newer one");
  });
});

describe("LiveConnection votes", () => {
  let savedWebSocket;
  beforeEach(() => {
    installStorage(new MemoryStorage());
    savedWebSocket = globalThis.WebSocket;
    globalThis.WebSocket = { OPEN: 1 };
  });
  afterEach(() => {
    globalThis.WebSocket = savedWebSocket;
  });

  test("a vote made offline is kept, survives a reload, and goes out whole with its ref on connect", () => {
    const outboxes = [];
    const live = connection({ onOutbox: (entry) => outboxes.push(entry) });
    const entry = live.vote(7, { options: [21, 22], confidence: 3, value: null });
    assert.deepEqual(Object.keys(entry).sort(), ["confidence", "options", "poll", "ref"]);
    assert.deepEqual(outboxes, [entry]);
    assert.deepEqual(live.sent, [], "not connected: nothing sent");

    const reloaded = connection();
    assert.deepEqual(reloaded.pendingVote(), entry);
    connect(reloaded);
    reloaded.handleFrame(state(1), "ws");
    assert.deepEqual(reloaded.sent, [{ type: "vote", ref: entry.ref, poll: 7, options: [21, 22], confidence: 3 }]);
    reloaded.handleFrame(state(2), "ws");
    assert.equal(reloaded.sent.length, 1, "sent once per connection, not on every state");
    reloaded.handleFrame(state(2), "http");
    assert.equal(reloaded.sent.length, 1);
  });

  test("a plain list of option ids is a ballot too", () => {
    const live = connection({}, { open: true });
    const entry = live.vote(7, [21]);
    assert.deepEqual(live.sent, [{ type: "vote", ref: entry.ref, poll: 7, options: [21] }]);
  });

  test("the ack of the pending vote clears it, here and after a reload", () => {
    const acks = [];
    const live = connection({ onAck: (ack, vote) => acks.push([ack.ref, vote && vote.ref]) }, { open: true });
    const entry = live.vote(7, { options: [21] });
    live.handleFrame({ type: "ack", ref: "someone-else", poll: 7 }, "ws");
    assert.deepEqual(live.pendingVote(), entry, "another ref's ack leaves it pending");
    live.handleFrame({ type: "ack", ref: entry.ref, poll: 7, options: [21] }, "ws");
    assert.equal(live.pendingVote(), null);
    assert.equal(connection().pendingVote(), null);
    assert.deepEqual(acks, [
      ["someone-else", null],
      [entry.ref, entry.ref],
    ]);
  });

  test("a refusal clears the vote and is reported with it", () => {
    const errors = [];
    const live = connection({ onError: (error, vote) => errors.push([error.code, vote]) }, { open: true });
    const entry = live.vote(7, { options: [21] });
    live.handleFrame({ type: "error", ref: entry.ref, code: "poll_closed", message: "closed" }, "ws");
    assert.equal(live.pendingVote(), null);
    assert.deepEqual(errors, [["poll_closed", entry]]);
  });

  test("a retryable error keeps the vote and resends the same ref shortly, unreported", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const errors = [];
    const live = connection({ onError: (error) => errors.push(error.code) }, { open: true });
    const entry = live.vote(7, { text: "Watch and wait" });
    live.handleFrame({ type: "error", ref: entry.ref, code: "rate_limited", message: "slow down" }, "ws");
    assert.deepEqual(errors, []);
    assert.deepEqual(live.pendingVote(), entry);
    assert.equal(live.sent.length, 1);
    t.mock.timers.tick(1999);
    assert.equal(live.sent.length, 1);
    t.mock.timers.tick(1);
    assert.deepEqual(live.sent[1], { type: "vote", ref: entry.ref, poll: 7, text: "Watch and wait" });
  });

  test("an error without our ref is reported without a vote", () => {
    const errors = [];
    const live = connection({ onError: (error, vote) => errors.push([error.code, vote]) });
    live.vote(7, { options: [21] });
    live.handleFrame({ type: "error", ref: null, code: "bad_frame", message: "?" }, "ws");
    assert.deepEqual(errors, [["bad_frame", null]]);
    assert.notEqual(live.pendingVote(), null);
  });
});

describe("questions_delta", () => {
  const q = (id, votes, extra = {}) => ({ id, text: `Q${id}`, votes, state: "approved", mine: false, voted: false, ...extra });
  const base = { type: "questions", version: 10, enabled: true, moderated: true, names: false, items: [q(1, 3), q(2, 1), q(3, 0)] };

  test("changed items replace theirs, the others stay, and order decides what is shown", () => {
    const delta = {
      type: "questions_delta", version: 11, since: 10, enabled: true, moderated: false, names: false,
      order: [9, 2, 1], items: [q(2, 5, { voted: true }), q(9, 0, { state: "pending", mine: true })],
    };
    const whole = applyQuestionsDelta(base, delta);
    assert.deepEqual(whole, {
      type: "questions", version: 11, enabled: true, moderated: false, names: false,
      items: [q(9, 0, { state: "pending", mine: true }), q(2, 5, { voted: true }), q(1, 3)],
    });
    assert.equal(base.items.length, 3); // the base is not changed in place
  });

  test("without a base there is nothing to apply to", () => {
    assert.equal(applyQuestionsDelta(null, { order: [], items: [] }), null);
  });

  test("a connection hands its features the whole list rebuilt from a delta", () => {
    const live = new LiveConnection({ ws_path: "/ws/e/CASE2/?questions=delta", code: "CASE2" });
    const seen = [];
    live.use({ onQuestions: (frame) => seen.push(frame) });
    live.handleFrame(base, "ws");
    live.handleFrame({ type: "questions_delta", version: 12, since: 10, enabled: true, moderated: true, names: false, order: [1, 2], items: [q(1, 4)] }, "ws");
    assert.deepEqual(seen.at(-1).items, [q(1, 4), q(2, 1)]);
    assert.equal(live.questionsVersion, 12);
  });
});
