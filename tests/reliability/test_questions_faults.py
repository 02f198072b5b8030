"""Audience questions under the faults voting survives: Redis killed and restarted empty with two
workers serving the event, and phones resending with the same `ref` after a reconnect.

No question is lost or doubled: every acked `ask` and `upvote` is in the database once, every
refused one is not, and resending a ref never adds a row. When Redis is back, the projector on
worker B sees the questions asked and upvoted on worker A.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from websockets.exceptions import ConnectionClosed

from tests.reliability.cluster import http_get
from tests.reliability.figures import record
from tests.reliability.phones import Client, Phone

ANSWER_TIMEOUT_S = 30
RECOVERY_TIMEOUT_S = 60

pytestmark = pytest.mark.usefixtures("close_clients")


def ask(ref: str, text: str) -> dict:
    return {"type": "ask", "ref": ref, "text": text}


def upvote(ref: str, question: int) -> dict:
    return {"type": "upvote", "ref": ref, "question": question}


async def wait_healthy(worker, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (await asyncio.to_thread(http_get, f"{worker.url}/healthz", 10))[0] != 200:
        assert time.monotonic() < deadline, "the worker did not become healthy again"
        await asyncio.sleep(0.25)


async def questions_seen(client: Client, predicate, timeout: float) -> dict:
    """The first `questions` frame (alone or in a `state`) the client received or receives that satisfies predicate."""
    deadline = time.monotonic() + timeout
    for frame in list(client.frames):
        frame = frame.get("questions", frame) if frame["type"] == "state" else frame
        if frame["type"] == "questions" and predicate(frame):
            return frame
    while True:
        frame = await client.receive(max(0.01, deadline - time.monotonic()))
        frame = frame.get("questions", frame) if frame["type"] == "state" else frame
        if frame["type"] == "questions" and predicate(frame):
            return frame


async def command(client: Client, frame: dict) -> dict:
    await client.send(frame)
    return await client.reply(ANSWER_TIMEOUT_S)


async def test_questions_and_upvotes_survive_a_redis_restart(cluster):
    a, b = cluster.worker("a"), cluster.worker("b", graceful=False)
    seed = cluster.seed(phones=7)
    event = seed["event"]
    presenter = Client(f"/ws/e/{seed['code']}/present/", seed["moderator"])
    console = Client(f"/ws/e/{seed['code']}/moderate/", seed["moderator"])
    phones = [Phone(seed["code"], p["key"], random.Random(i)) for i, p in enumerate(seed["phones"])]
    await presenter.join(b)
    await console.join(a)
    for phone in phones:
        await phone.join(a)
    first = await phones[0].vote(ask("q0", "Asked before the outage?"))
    assert first["type"] == "ack"
    question = first["question"]
    assert (await command(console, {"type": "approve_question", "ref": "m0", "question": question}))["type"] == "ack"
    await questions_seen(presenter, lambda f: [i["id"] for i in f["items"]] == [question], RECOVERY_TIMEOUT_S)

    cluster.redis.kill()
    during = {}
    for i, phone in enumerate(phones[1:], start=1):
        frame = ask(f"q{i}", f"Asked during the outage, number {i}?") if i <= 3 else upvote(f"u{i}", question)
        try:
            during[frame["ref"]] = await phone.vote(frame, timeout=ANSWER_TIMEOUT_S)
        except ConnectionClosed as exc:
            during[frame["ref"]] = {"type": "closed", "code": exc.rcvd.code if exc.rcvd else None}
    asked = {ref for (ref,) in cluster.db.query("SELECT ref FROM polls_audiencequestion WHERE event_id = %s", event)}
    upvoted = cluster.db.query("SELECT count(*) FROM polls_questionupvote WHERE question_id = %s", question)[0][0]
    for ref, answer in during.items():
        assert answer["type"] in ("ack", "error", "closed"), answer
        if ref.startswith("q"):
            assert (ref in asked) == (answer["type"] == "ack"), (ref, answer)
    assert upvoted == sum(1 for ref, answer in during.items() if ref.startswith("u") and answer["type"] == "ack")

    cluster.redis.start()
    for worker in (a, b):
        await wait_healthy(worker, RECOVERY_TIMEOUT_S)
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    for phone in phones[1:]:
        if phone.pending is not None or phone.outcome is None:
            await phone.finish(a, deadline)
    # Every phone resends its frame once more with the same ref, as one that lost the ack would.
    for i, phone in enumerate(phones[1:], start=1):
        if phone.ws is None or phone.ws.state.name != "OPEN":
            await phone.reconnect(a, deadline)
        frame = ask(f"q{i}", f"Asked during the outage, number {i}?") if i <= 3 else upvote(f"u{i}", question)
        first_answer = phone.outcome
        answer = await phone.vote(frame, timeout=ANSWER_TIMEOUT_S)
        # The same ack: the same question (an upvote's ack carries the votes as of now).
        assert {**answer, "votes": None} == {**first_answer, "votes": None}, (answer, first_answer)
    rows = cluster.db.query("SELECT id, ref FROM polls_audiencequestion WHERE event_id = %s", event)
    assert sorted(ref for _, ref in rows) == ["q0", "q1", "q2", "q3"]  # none lost, none doubled
    votes = cluster.db.query("SELECT count(*) FROM polls_questionupvote WHERE question_id = %s", question)[0][0]
    assert votes == 3  # phones 4, 5 and 6, once each

    # The projector on B follows what happens on A again.
    if console.ws is None or console.ws.state.name != "OPEN":
        await console.join(a)
    for question_id, _ in rows:
        if question_id != question:
            reply = await command(
                console, {"type": "approve_question", "ref": f"m{question_id}", "question": question_id}
            )
            assert reply["type"] == "ack", reply
    shown = await questions_seen(
        presenter,
        lambda f: len(f["items"]) == 4 and f["items"][0]["id"] == question and f["items"][0]["votes"] == 3,
        RECOVERY_TIMEOUT_S,
    )
    assert sorted(i["id"] for i in shown["items"]) == sorted(i for i, _ in rows)
    for client in (presenter, console, *phones):
        await client.close()
    record(
        "Questions through a Redis restart",
        answers_during_outage={k: v.get("code", v["type"]) for k, v in during.items()},
        questions_stored=len(rows),
        upvotes_stored=votes,
    )


async def test_sigkill_of_a_worker_mid_burst_loses_and_doubles_no_question_or_upvote(cluster):
    import os
    import signal

    a, b = cluster.worker("a"), cluster.worker("b", graceful=False)
    seed = cluster.seed(phones=41)
    rng = random.Random(13)
    console = Client(f"/ws/e/{seed['code']}/moderate/", seed["moderator"])
    await console.join(b)
    author, *phones = [Phone(seed["code"], p["key"], random.Random(rng.random())) for p in seed["phones"]]
    await author.join(b)
    question = (await author.vote(ask("first", "The question everyone upvotes?")))["question"]
    assert (await command(console, {"type": "approve_question", "ref": "m", "question": question}))["type"] == "ack"
    await asyncio.gather(*(phone.join(a) for phone in phones))
    frames = [ask(f"k{i}", f"Burst question {i}?") if i % 2 else upvote(f"k{i}", question) for i in range(40)]
    acked_on_a: set[str] = set()

    async def burst(i: int, phone: Phone) -> None:
        await asyncio.sleep(phone.rng.uniform(0, 1.0))
        try:
            answer = await phone.vote(frames[i], timeout=5)
        except Exception:  # the worker died under this frame: its fate is unknown until resent
            phone.drop()
            return
        assert answer["type"] == "ack", answer
        acked_on_a.add(answer["ref"])

    tasks = [asyncio.create_task(burst(i, phone)) for i, phone in enumerate(phones)]
    await asyncio.sleep(0.5)
    os.kill(a.process.pid, signal.SIGKILL)
    await asyncio.gather(*tasks)
    a.wait(timeout=10)
    asked = {
        ref for (ref,) in cluster.db.query("SELECT ref FROM polls_audiencequestion WHERE event_id = %s", seed["event"])
    }
    upvote_refs = {
        ref for (ref,) in cluster.db.query("SELECT ref FROM polls_questionreceipt WHERE question_id = %s", question)
    }
    assert {ref for ref in acked_on_a if int(ref[1:]) % 2} <= asked  # every acked question is stored
    assert {ref for ref in acked_on_a if not int(ref[1:]) % 2} <= upvote_refs  # every acked upvote too
    unknown = [(i, phone) for i, phone in enumerate(phones) if phone.pending is not None or phone.outcome is None]
    deadline = time.monotonic() + 60
    for i, phone in unknown:
        phone.pending = frames[i]
    await asyncio.gather(*(phone.finish(b, deadline) for _, phone in unknown))
    assert all(phone.outcome["type"] == "ack" for phone in phones), [p.outcome for p in phones]
    rows = cluster.db.query("SELECT ref FROM polls_audiencequestion WHERE event_id = %s", seed["event"])
    assert sorted(ref for (ref,) in rows) == sorted(["first", *(f["ref"] for f in frames if f["type"] == "ask")])
    votes = cluster.db.query("SELECT count(*) FROM polls_questionupvote WHERE question_id = %s", question)[0][0]
    assert votes == 20
    for client in (console, author, *phones):
        await client.close()
    record(
        "Questions through a SIGKILLed worker",
        frames=40,
        acked_before_kill=len(acked_on_a),
        resent_on_b=len(unknown),
        questions_stored=len(rows) - 1,
        upvotes_stored=votes,
    )
