"""SIGTERM while votes are in flight: caseboard/serve.py answers every one of them before closing the sockets.

The votes are held in flight by a database lock taken by the test (SQLite: BEGIN IMMEDIATE on the
WAL file, which the workers' busy timeout waits on; PostgreSQL: an ACCESS EXCLUSIVE table lock).
The same scenario against plain daphne is recorded for comparison: it drops the sockets (1006).
"""

from __future__ import annotations

import asyncio
import random
import signal
import socket
import subprocess
import time

from websockets.exceptions import ConnectionClosed

from tests.reliability.figures import record
from tests.reliability.phones import Phone

IN_FLIGHT = 20


def vote(seed: dict, ref: str) -> dict:
    return {"type": "vote", "ref": ref, "poll": seed["poll"], "options": [seed["options"][0]]}


async def answers_then_close(phone: Phone, timeout: float) -> tuple[list[dict], int | None]:
    """Frames that answer the phone until its socket closes, and the close code (1006: dropped)."""
    answers = []
    try:
        while True:
            frame = await phone.reply(timeout)
            answers.append(frame)
    except ConnectionClosed as exc:
        return answers, exc.rcvd.code if exc.rcvd else 1006
    except TimeoutError:
        return answers, None


async def votes_in_flight_at_sigterm(cluster, worker, seed, exit_timeout: float = 30) -> tuple[list, list, tuple]:
    phones = [Phone(seed["code"], p["key"], random.Random(i)) for i, p in enumerate(seed["phones"])]
    await asyncio.gather(*(phone.connect(worker) for phone in phones))
    lock = cluster.db.lock_votes()
    try:
        for i, phone in enumerate(phones):
            phone.pending = vote(seed, f"g{i}")
            await phone.send(phone.pending)
        await asyncio.sleep(0.5)  # every vote is now waiting on the lock
        worker.signal(signal.SIGTERM)
        signalled = time.monotonic()
        await asyncio.sleep(1.0)
        draining = worker.running
        with socket.socket() as probe:
            accepting = probe.connect_ex(("127.0.0.1", worker.port)) == 0
    finally:
        lock.rollback()
        lock.close()
    results = await asyncio.gather(*(answers_then_close(phone, exit_timeout) for phone in phones))
    try:
        worker.wait(timeout=exit_timeout)
        exited = True
    except subprocess.TimeoutExpired:
        exited = False
    return phones, results, (signalled, draining, accepting, exited)


async def test_sigterm_finishes_in_flight_votes_before_closing(cluster):
    worker = cluster.worker("graceful")
    seed = cluster.seed(phones=IN_FLIGHT)
    phones, results, (signalled, draining, accepting, exited) = await votes_in_flight_at_sigterm(cluster, worker, seed)
    stopped_after = time.monotonic() - signalled
    assert exited and draining, "the worker exited before its in-flight votes were done, or never"
    assert not accepting, "the worker still accepted connections while draining"
    for i, (answers, code) in enumerate(results):
        assert answers == [{**vote(seed, f"g{i}"), "type": "ack"}], answers
        assert code == 1001
    assert worker.process.returncode == 0, worker.log_tail()
    counted = cluster.db.votes(seed["poll"])
    assert counted == IN_FLIGHT
    for phone in phones:
        await phone.close()
    record(
        "SIGTERM with votes in flight (caseboard/serve.py)",
        votes_in_flight=IN_FLIGHT,
        acked_before_close=sum(len(a) for a, _ in results),
        close_codes=sorted({code for _, code in results}),
        counted=counted,
        process_exit_after_s=round(stopped_after, 2),
    )


async def test_plain_daphne_acks_nothing_in_flight_and_resends_recover_the_votes(cluster):
    """The contrast, and why phones resend: daphne drops the sockets (1006) and acks nothing in flight.

    It may also hang: asgiref lets a cancelled database call finish and swallows the cancellation,
    so the consumer never ends and daphne waits for it; the test then SIGKILLs it, as an orchestrator would.
    """
    worker = cluster.worker("plain", graceful=False)
    seed = cluster.seed(phones=IN_FLIGHT)
    phones, results, (*_, exited) = await votes_in_flight_at_sigterm(cluster, worker, seed, exit_timeout=5)
    if not exited:
        worker.stop()
    acked = sum(1 for answers, _ in results for a in answers if a["type"] == "ack")
    committed = len(cluster.db.receipts(seed["poll"]))
    survivor = cluster.worker("b", graceful=False)
    deadline = time.monotonic() + 30
    await asyncio.gather(*(phone.finish(survivor, deadline) for phone in phones))
    assert all(phone.outcome["type"] == "ack" for phone in phones)
    assert cluster.db.votes(seed["poll"]) == IN_FLIGHT
    for phone in phones:
        await phone.close()
    record(
        "SIGTERM with votes in flight (plain daphne)",
        votes_in_flight=IN_FLIGHT,
        acked_before_close=acked,
        close_codes=sorted({code for _, code in results}, key=str),
        exited_within_5s=exited,
        committed_without_ack=committed - acked,
        after_resend_to_another_worker_counted=cluster.db.votes(seed["poll"]),
    )
