"""The database fails under a vote: no false `ack`, nothing half-written, `unavailable`, and the retry succeeds.

Faults: an OperationalError raised at each step of the vote's transaction (its first read, the
ballot insert, the receipt insert, the commit); the database locked by another connection
(SQLite: an exclusive transaction; PostgreSQL: an ACCESS EXCLUSIVE table lock and a lock
timeout); and, on PostgreSQL, the server unreachable (the connection pointed at a closed port).
"""

from __future__ import annotations

import inspect
import socket
import sqlite3
import time

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError, connection, connections
from django.db.backends.utils import CursorWrapper

from tests.factories import build_world_async
from tests.live import OPEN_POLL_WORLD, ack_frame, error_frame, open_phone, reply, send, tally, vote_frame
from tests.reliability.dbstate import changed_tables, snapshot
from tests.reliability.figures import record

pytestmark = [pytest.mark.django_db(transaction=True)]

STEPS = {
    "first read": 'FROM "polls_votereceipt"',
    "ballot insert": 'INSERT INTO "polls_vote" ',
    "receipt insert": 'INSERT INTO "polls_votereceipt"',
}


async def vote_fails_then_retry_succeeds(ws, w, fault_on, fault_off) -> float:
    """Vote under the fault: `unavailable` and no row changed; lift it; the same ref is acked once."""

    async def run(step) -> None:
        result = step()
        if inspect.isawaitable(result):
            await result

    phone = await open_phone(ws, w)
    before = await database_sync_to_async(snapshot)()
    await run(fault_on)
    try:
        began = time.monotonic()
        await send(phone, vote_frame(w, "ref-1"))
        assert await reply(phone, timeout=10) == error_frame("ref-1", "unavailable")
        refused_after = time.monotonic() - began
    finally:
        await run(fault_off)
    assert changed_tables(before, await database_sync_to_async(snapshot)()) == []
    await send(phone, vote_frame(w, "ref-1"))
    assert await reply(phone) == ack_frame(w, "ref-1")
    await send(phone, vote_frame(w, "ref-1"))
    assert await reply(phone) == ack_frame(w, "ref-1")
    counted = await tally(w)
    assert (counted["votes"], counted["receipts"]) == (1, 1)
    return refused_after


@pytest.mark.parametrize("step", [*STEPS, "commit"])
async def test_database_error_at_any_step_of_a_vote_is_unavailable_and_leaves_nothing(ws, monkeypatch, step):
    w = await build_world_async(**OPEN_POLL_WORLD, phones=1)
    armed = []
    wrapper_class = type(connections["default"])
    real_execute, real_commit = CursorWrapper._execute, wrapper_class._commit

    def execute(self, sql, params, *rest):
        if armed and STEPS.get(step, "\0") in sql:
            armed.clear()
            raise OperationalError("server closed the connection unexpectedly")
        return real_execute(self, sql, params, *rest)

    def commit(self):
        if armed and step == "commit" and self.in_atomic_block is False:
            armed.clear()
            raise OperationalError("could not commit: connection lost")
        return real_commit(self)

    monkeypatch.setattr(CursorWrapper, "_execute", execute)
    monkeypatch.setattr(wrapper_class, "_commit", commit)
    await vote_fails_then_retry_succeeds(ws, w, lambda: armed.append(True), armed.clear)
    record("database error mid-vote", steps_injected=len(STEPS) + 1, false_acks=0, partial_writes=0)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite lock; PostgreSQL has its own test")
async def test_locked_sqlite_database_is_refused_and_the_retry_succeeds(ws, monkeypatch):
    w = await build_world_async(**OPEN_POLL_WORLD, phones=1)
    # Production waits up to 20 s for the lock (settings.py); here the consumers' connection gives up after 0.3 s.
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.3)
    await database_sync_to_async(lambda: connection.close())()  # in the thread that owns it
    name = str(connection.settings_dict["NAME"])
    holder = sqlite3.connect(name, uri=name.startswith("file:"), timeout=0.1, isolation_level=None)

    def lock():
        holder.execute("BEGIN EXCLUSIVE")

    try:
        refused_after = await vote_fails_then_retry_succeeds(ws, w, lock, lambda: holder.execute("ROLLBACK"))
    finally:
        holder.close()
    record("SQLite locked by another connection (busy timeout 0.3 s)", refused_after_s=round(refused_after, 3),
           retry_acked=True)  # fmt: skip


def _pg_conninfo() -> dict:
    s = connection.settings_dict
    return {"dbname": s["NAME"], "user": s["USER"], "host": s["HOST"] or None, "port": s["PORT"] or None,
            "password": s["PASSWORD"] or None}  # fmt: skip


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL lock")
async def test_locked_postgres_table_times_out_into_unavailable(ws, monkeypatch):
    w = await build_world_async(**OPEN_POLL_WORLD, phones=1)
    # Every new connection (the settings dict is shared by all threads) waits at most 300 ms for a lock.
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "options", "-c lock_timeout=300")
    await database_sync_to_async(lambda: connection.close())()  # in the thread that owns it
    holder = await psycopg.AsyncConnection.connect(**_pg_conninfo(), autocommit=True)

    async def lock():
        await holder.execute("BEGIN")
        await holder.execute("LOCK TABLE polls_votereceipt IN ACCESS EXCLUSIVE MODE")

    try:
        refused_after = await vote_fails_then_retry_succeeds(ws, w, lock, lambda: holder.execute("ROLLBACK"))
    finally:
        await holder.close()
    record("PostgreSQL table locked (lock_timeout 300 ms)", refused_after_s=round(refused_after, 3), retry_acked=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a networked database")
async def test_unreachable_postgres_is_unavailable_and_the_retry_succeeds(ws):
    w = await build_world_async(**OPEN_POLL_WORLD, phones=1)
    settings_dict = connection.settings_dict  # shared by every thread's connection
    real_port = settings_dict["PORT"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # free, so nothing listens there once closed
    drop = database_sync_to_async(lambda: connection.close())

    def down():
        settings_dict["PORT"] = str(closed_port)

    def up():
        settings_dict["PORT"] = real_port

    phone = await open_phone(ws, w)
    await drop()
    down()
    try:
        await send(phone, vote_frame(w, "ref-1"))
        assert await reply(phone, timeout=10) == error_frame("ref-1", "unavailable")
    finally:
        up()
    await send(phone, vote_frame(w, "ref-1"))
    assert await reply(phone) == ack_frame(w, "ref-1")
    assert (await tally(w))["votes"] == 1
    record("PostgreSQL unreachable", false_acks=0, retry_acked=True)
