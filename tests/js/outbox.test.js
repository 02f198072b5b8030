// outbox.js: the one pending vote of an event survives a reload whole, under its ref.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { BALLOT_FIELDS, Outbox, ballotFields } from "../../static/js/outbox.js";
import { BlockedStorage, FullStorage, MemoryStorage, installStorage } from "./storage.js";

const entry = { ref: "a1b2c3", poll: 7, options: [21, 23], confidence: 4 };

describe("ballotFields", () => {
  test("copies the ballot's fields only, leaving out absent and null ones", () => {
    assert.deepEqual(BALLOT_FIELDS, ["options", "value", "text", "confidence"]);
    assert.deepEqual(ballotFields({ ref: "x", poll: 1, options: [2], value: null, text: undefined, extra: 1 }), {
      options: [2],
    });
    assert.deepEqual(ballotFields({ value: 0, text: "", confidence: 1 }), { value: 0, text: "", confidence: 1 });
    assert.deepEqual(ballotFields(null), {});
  });

  test("lists are copied, so a later change of the source does not reach the copy", () => {
    const source = { options: [1, 2] };
    const copy = ballotFields(source);
    source.options.push(3);
    assert.deepEqual(copy.options, [1, 2]);
  });
});

describe("Outbox", () => {
  test("an entry survives a reload (a new Outbox on the same event) whole", () => {
    const storage = installStorage(new MemoryStorage());
    new Outbox("ABC123").set(entry);
    const afterReload = new Outbox("ABC123");
    assert.deepEqual(afterReload.get(), entry);
    assert.equal(storage.getItem("caseboard:outbox:ABC123"), JSON.stringify(entry));
  });

  test("clear() removes it for good; each event has its own", () => {
    installStorage(new MemoryStorage());
    new Outbox("ONE").set(entry);
    new Outbox("TWO").set({ ...entry, ref: "other" });
    new Outbox("ONE").clear();
    assert.equal(new Outbox("ONE").get(), null);
    assert.equal(new Outbox("TWO").get().ref, "other");
  });

  test("nothing stored: null", () => {
    installStorage(new MemoryStorage());
    assert.equal(new Outbox("EMPTY").get(), null);
  });

  test("storage blocked (private mode): the page keeps its own copy until a reload", () => {
    installStorage(new BlockedStorage());
    const outbox = new Outbox("ABC123");
    outbox.set(entry);
    assert.deepEqual(outbox.get(), entry);
    assert.equal(new Outbox("ABC123").get(), null, "a reload cannot bring it back");
    outbox.clear();
    assert.equal(outbox.get(), null);
  });

  test("storage full (reads work, writes fail): the page still has the vote to send", () => {
    installStorage(new FullStorage());
    const outbox = new Outbox("ABC123");
    outbox.set(entry);
    assert.deepEqual(outbox.get(), entry);
    outbox.clear();
    assert.equal(outbox.get(), null);
  });

  test("an unreadable stored entry counts as none", () => {
    const storage = installStorage(new MemoryStorage());
    storage.setItem("caseboard:outbox:BAD", "{not json");
    assert.equal(new Outbox("BAD").get(), null);
  });
});
