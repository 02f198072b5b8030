"""Two daphne workers share one event through Redis; one is SIGKILLed in the middle of a vote burst.

Worker A runs caseboard/serve.py, worker B plain `daphne caseboard.asgi:application` (both must work).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time

import pytest

from tests.live import wait_until
from tests.reliability.figures import record
from tests.reliability.phones import Client, Phone

BURST_PHONES = 80

pytestmark = pytest.mark.usefixtures("close_clients")


def vote(seed: dict, ref: str, option: int = 0) -> dict:
    return {"type": "vote", "ref": ref, "poll": seed["poll"], "options": [seed["options"][option]]}


async def test_vote_on_worker_a_reaches_the_presenter_on_worker_b(cluster):
    a, b = cluster.worker("a"), cluster.worker("b", graceful=False)
    seed = cluster.seed(phones=1)
    presenter = Client(f"/ws/e/{seed['code']}/present/", seed["moderator"])
    console = Client(f"/ws/e/{seed['code']}/moderate/", seed["moderator"])
    phone = Phone(seed["code"], seed["phones"][0]["key"], random.Random(1))
    try:
        await presenter.join(b)
        await console.join(b)
        await phone.join(a)
        began = time.monotonic()
        assert await phone.vote(vote(seed, "x1")) == {**vote(seed, "x1"), "type": "ack"}
        await presenter.results(seed["poll"], 1, timeout=30)
        vote_to_screen = time.monotonic() - began
        await console.send({"type": "reveal_results", "ref": "m1", "poll": seed["poll"]})
        assert (await console.reply())["type"] == "ack"
        state = await phone.next("state", timeout=30)  # a change made on B reaches the phone on A
        assert state["poll"]["results_visible"] is True
        assert state["my_vote"] == {"poll": seed["poll"], "options": [seed["options"][0]]}
    finally:
        for client in (presenter, console, phone):
            await client.close()
    record("cross-worker fan-out", vote_on_a_to_presenter_on_b_s=round(vote_to_screen, 3))


async def test_sigkill_of_a_worker_mid_burst_loses_no_acked_vote(cluster):
    a, b = cluster.worker("a"), cluster.worker("b", graceful=False)
    seed = cluster.seed(phones=BURST_PHONES)
    rng = random.Random(7)
    phones = [Phone(seed["code"], p["key"], random.Random(rng.random())) for p in seed["phones"]]
    presenter = Client(f"/ws/e/{seed['code']}/present/", seed["moderator"])
    await presenter.join(b)
    await asyncio.gather(*(phone.join(a) for phone in phones))
    acked_on_a: set[str] = set()

    async def burst(i: int, phone: Phone) -> None:
        await asyncio.sleep(phone.rng.uniform(0, 1.0))
        try:
            answer = await phone.vote(vote(seed, f"k{i}", i % 3), timeout=5)
        except Exception:  # the worker died under this vote: its fate is unknown until resent
            phone.drop()
            return
        assert answer["type"] == "ack", answer
        acked_on_a.add(answer["ref"])

    async def killer() -> float:
        await asyncio.sleep(0.5)
        os.kill(a.process.pid, signal.SIGKILL)
        return time.monotonic()

    tasks = [asyncio.create_task(burst(i, phone)) for i, phone in enumerate(phones)]
    killed_at = await killer()
    await asyncio.gather(*tasks)
    a.wait(timeout=10)
    committed_at_kill = {ref for _, ref in cluster.db.receipts(seed["poll"])}
    # Every vote A acknowledged is in the database; some may be committed without their ack having left.
    assert acked_on_a <= committed_at_kill
    unknown = [phone for phone in phones if phone.pending is not None]
    deadline = time.monotonic() + 30
    await asyncio.gather(*(phone.finish(b, deadline) for phone in unknown))
    finished_after = time.monotonic() - killed_at
    answers = [phone.outcome for phone in phones]
    assert all(answer["type"] == "ack" for answer in answers), [x for x in answers if x["type"] != "ack"][:3]
    refs = {answer["ref"] for answer in answers}
    assert refs == {f"k{i}" for i in range(BURST_PHONES)}
    counted = cluster.db.votes(seed["poll"])
    assert counted == len(refs) == BURST_PHONES
    assert {ref for _, ref in cluster.db.receipts(seed["poll"])} == refs
    await presenter.results(seed["poll"], BURST_PHONES, timeout=30)
    for client in (presenter, *phones):
        await client.close()
    record(
        "SIGKILL of worker A mid-burst",
        phones=BURST_PHONES,
        acked_before_kill=len(acked_on_a),
        committed_at_kill=len(committed_at_kill),
        committed_but_unacked_at_kill=len(committed_at_kill - acked_on_a),
        resent_to_b=len(unknown),
        acked=len(refs),
        counted=counted,
        all_answered_after_kill_s=round(finished_after, 2),
    )


async def test_healthz_layer_check_works_beside_a_hub_that_is_receiving(cluster, monkeypatch):
    from channels_redis.core import RedisChannelLayer

    from caseboard.settings import redis_channel_layer
    from polls import views

    layer = RedisChannelLayer(**redis_channel_layer(cluster.redis.url, prefix="healthz-test")["CONFIG"])
    monkeypatch.setattr(views, "get_channel_layer", lambda: layer)
    hub_reader = asyncio.ensure_future(layer.receive(await layer.new_channel()))  # what the fan-out hub does
    try:
        # Once the reader holds the layer's receive lock, it is blocked in BZPOPMIN on Redis.
        await wait_until(lambda: layer.receive_lock is not None and layer.receive_lock.locked(), what="the reader")
        # The round trip completes beside it (it once deadlocked behind it); the generous timeout
        # only turns a hang into a failure.
        await asyncio.wait_for(views._layer_roundtrip(), timeout=30)
    finally:
        hub_reader.cancel()
        await asyncio.gather(hub_reader, return_exceptions=True)
        await layer.close_pools()
