"""A poll closed while 50 votes are in flight: every vote is acked and counted, or refused with poll_closed.

Once through the sockets (one server process: its database calls share one thread, so the close
lands between votes), and once with 50 threads on their own database connections, so that on
PostgreSQL the close truly races the ballots' transactions (SQLite serialises writers).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time

import pytest
from channels.db import database_sync_to_async
from django.db import DatabaseError, connections

from polls import protocol
from polls.errors import DomainError
from polls.models import Participant
from tests.factories import build_world_async
from tests.live import (
    OPEN_POLL_WORLD,
    ack_frame,
    error_frame,
    open_console,
    open_phone,
    reply,
    results_until,
    send,
    tally,
    vote_frame,
)
from tests.reliability.figures import record

pytestmark = [pytest.mark.django_db(transaction=True)]
VOTERS = 50
MAX_RETRIES = 50


async def test_close_racing_50_votes_through_the_sockets(ws):
    w = await build_world_async(**OPEN_POLL_WORLD, phones=VOTERS)
    phones = [await open_phone(ws, w, i) for i in range(VOTERS)]
    console = await open_console(ws, w)
    presenter = await open_console(ws, w, "presenter")
    close_after = random.Random(4).randrange(10, 40)
    for i, phone in enumerate(phones):
        await send(phone, vote_frame(w, f"v{i}", option=i % 3))
        if i == close_after:
            await send(console, {"type": "close_poll", "ref": "close", "poll": w.poll.id})
    outcomes, retries = {}, 0
    for i, phone in enumerate(phones):
        frame = await reply(phone)
        while frame.get("code") == "unavailable" and retries < MAX_RETRIES:  # told to retry: same ref
            retries += 1
            await send(phone, vote_frame(w, f"v{i}", option=i % 3))
            frame = await reply(phone)
        assert frame in (ack_frame(w, f"v{i}", option=i % 3), error_frame(f"v{i}", "poll_closed")), frame
        outcomes[i] = frame["type"]
    assert await reply(console) == {"type": "ack", "ref": "close", "poll": w.poll.id}
    acked = sum(kind == "ack" for kind in outcomes.values())
    counted = await tally(w)
    assert counted["total"] == counted["receipts"] == acked
    assert sum(counted["counts"].values()) == acked
    assert sum(1 for i, kind in outcomes.items() if kind == "ack" and i % 3 == 0) == counted["counts"][w.options[0]]
    assert (await results_until(presenter, w.poll.id, acked))["total"] == acked
    record("close racing 50 votes (sockets)", votes=VOTERS, acked=acked, counted=counted["total"], retries=retries)


def _vote_until_decided(w, participant_id: int, ref: str, start: threading.Barrier, out: dict) -> None:
    """What a phone does: send, and on `unavailable` resend the same ref; record the final answer."""
    command = protocol.parse(vote_frame(w, ref), role=protocol.Role.PARTICIPANT)
    start.wait()
    time.sleep(random.uniform(0, 0.3))  # phones vote over a few hundred milliseconds; the close lands midway
    try:
        for attempt in range(MAX_RETRIES):
            try:
                protocol.execute(command, event_id=w.event.id, participant_id=participant_id)
                out[ref] = ("ack", attempt)
                return
            except DomainError as exc:
                out[ref] = (exc.code, attempt)
                return
            except DatabaseError:
                time.sleep(random.uniform(0.005, 0.03))
        out[ref] = ("gave up", MAX_RETRIES)
    finally:
        connections.close_all()


def _close(w, start: threading.Barrier, out: dict) -> None:
    start.wait()
    time.sleep(0.15)
    began = time.monotonic()
    try:
        for _ in range(MAX_RETRIES):
            try:
                command = protocol.parse({"type": "close_poll", "poll": w.poll.id}, role=protocol.Role.MODERATOR)
                protocol.execute(command, event_id=w.event.id, user=w.moderator)
                out["close"] = "ack"
                out["close_took"] = time.monotonic() - began
                return
            except DatabaseError:
                time.sleep(0.01)
    finally:
        connections.close_all()


async def test_close_racing_50_votes_on_their_own_connections():
    w = await build_world_async(**OPEN_POLL_WORLD, phones=1)
    pids = await database_sync_to_async(lambda: [Participant.objects.create(event=w.event).id for _ in range(VOTERS)])()
    start, out = threading.Barrier(VOTERS + 1), {}
    threads = [
        threading.Thread(target=_vote_until_decided, args=(w, pid, f"t{i}", start, out)) for i, pid in enumerate(pids)
    ]
    threads.append(threading.Thread(target=_close, args=(w, start, out)))
    began = time.monotonic()
    for thread in threads:
        thread.start()
    await asyncio.gather(*(asyncio.to_thread(thread.join, 60) for thread in threads))
    elapsed = time.monotonic() - began
    assert out.pop("close") == "ack"
    close_took = out.pop("close_took")
    kinds = [kind for kind, _ in out.values()]
    assert len(kinds) == VOTERS and set(kinds) <= {"ack", "poll_closed"}, kinds
    counted = await tally(w)
    assert counted["total"] == counted["receipts"] == kinds.count("ack")
    record(
        "close racing 50 votes (threads)",
        votes=VOTERS,
        acked=kinds.count("ack"),
        refused_poll_closed=kinds.count("poll_closed"),
        counted=counted["total"],
        retries=sum(attempt for _, attempt in out.values()),
        seconds=round(elapsed, 2),
        close_took_s=round(close_took, 3),
    )
