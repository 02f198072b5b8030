"""Redis killed and restarted empty in the middle of an event, with two workers serving it.

While Redis is down: no worker crashes or hangs, /healthz answers 503 naming the channel layer,
open sockets keep working, and every vote is acked and committed or clearly refused (and then not
committed). When Redis is back: /healthz is ok again, and a vote on worker A reaches a presenter on
worker B again (the fan-out hubs re-join their groups, which the restart emptied).
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from tests.reliability.cluster import http_get
from tests.reliability.figures import record
from tests.reliability.phones import Client, Phone

# Generous waits for things that must happen (never asserted as durations: the durations are
# recorded as figures for docs/reliability.md). The hub checks its group membership every 5 s.
FANOUT_RECOVERY_TIMEOUT_S = 60
ANSWER_TIMEOUT_S = 30
PHONES = 8

pytestmark = pytest.mark.usefixtures("close_clients")


def vote(seed: dict, ref: str) -> dict:
    return {"type": "vote", "ref": ref, "poll": seed["poll"], "options": [seed["options"][0]]}


async def wait_healthy(worker, status: int, timeout: float) -> float:
    began = time.monotonic()
    while True:
        code, body = await asyncio.to_thread(http_get, f"{worker.url}/healthz", 10)
        if code == status:
            return time.monotonic() - began
        assert time.monotonic() - began < timeout, (code, body)
        await asyncio.sleep(0.25)


async def test_redis_restart_during_an_event(cluster):
    a, b = cluster.worker("a"), cluster.worker("b", graceful=False)
    seed = cluster.seed(phones=PHONES)
    presenter = Client(f"/ws/e/{seed['code']}/present/", seed["moderator"])
    phones = [Phone(seed["code"], p["key"], random.Random(i)) for i, p in enumerate(seed["phones"])]
    await presenter.join(b)
    for phone in phones[:6]:
        await phone.join(a)
    assert (await phones[0].vote(vote(seed, "before")))["type"] == "ack"
    await presenter.results(seed["poll"], 1, timeout=ANSWER_TIMEOUT_S)

    cluster.redis.kill()
    outage_began = time.monotonic()
    # Health: an answer (not a hang) that is 503 and names the channel layer, on both workers.
    health_seconds = []
    for worker in (a, b):
        began = time.monotonic()
        code, body = await asyncio.to_thread(http_get, f"{worker.url}/healthz", ANSWER_TIMEOUT_S)
        health_seconds.append(time.monotonic() - began)
        assert (code, body.get("channel_layer"), body.get("database")) == (503, "error", "ok"), body
    # Votes on open sockets: acked and committed, or refused and not committed.
    during = {}
    for i, phone in enumerate(phones[1:6], start=1):
        try:
            during[f"down{i}"] = await phone.vote(vote(seed, f"down{i}"), timeout=ANSWER_TIMEOUT_S)
        except ConnectionClosed as exc:
            during[f"down{i}"] = {"type": "closed", "code": exc.rcvd.code if exc.rcvd else None}
    # A phone connecting during the outage is served or cleanly refused, never left hanging.
    try:
        await phones[6].connect(a, timeout=ANSWER_TIMEOUT_S)
        new_connection = "accepted"
    except InvalidStatus as exc:
        new_connection = f"refused: HTTP {exc.response.status_code}"
    except (InvalidHandshake, ConnectionClosed) as exc:
        new_connection = f"refused ({type(exc).__name__})"
    committed = {ref for _, ref in cluster.db.receipts(seed["poll"])}
    for ref, answer in during.items():
        assert answer["type"] in ("ack", "error", "closed"), answer
        assert (ref in committed) == (answer["type"] == "ack"), (ref, answer)
    assert a.running and b.running

    cluster.redis.start()
    restarted_at = time.monotonic()
    healthy_after = max([await wait_healthy(w, 200, FANOUT_RECOVERY_TIMEOUT_S) for w in (a, b)])
    # A fresh vote on A must reach the presenter on B again; the refused ones are resent (same ref).
    voter = phones[7]
    await voter.join(a)
    assert (await voter.vote(vote(seed, "after")))["type"] == "ack"
    deadline = time.monotonic() + FANOUT_RECOVERY_TIMEOUT_S
    for phone in phones[1:7]:
        if phone.pending is not None or phone.outcome is None:
            await phone.finish(a, deadline)
    counted = cluster.db.votes(seed["poll"])
    acked = sum(1 for p in phones if p.outcome and p.outcome["type"] == "ack")
    assert counted == acked
    await presenter.results(seed["poll"], counted, timeout=FANOUT_RECOVERY_TIMEOUT_S)
    fanout_recovered = time.monotonic() - restarted_at
    assert a.running and b.running
    for client in (presenter, *phones):
        await client.close()
    record(
        "Redis killed and restarted empty",
        healthz_during_outage="503 channel_layer=error database=ok",
        healthz_answered_within_s=round(max(health_seconds), 2),
        votes_during_outage={k: v.get("code", v["type"]) for k, v in during.items()},
        new_connection_during_outage=new_connection,
        outage_s=round(restarted_at - outage_began, 2),
        healthy_again_after_s=round(healthy_after, 2),
        presenter_on_b_sees_votes_on_a_again_after_s=round(fanout_recovered, 2),
        acked=acked,
        counted=counted,
    )


async def test_a_phone_can_reconnect_while_redis_is_down(cluster):
    a = cluster.worker("a")
    seed = cluster.seed(phones=2)
    staying, rejoining = (Phone(seed["code"], p["key"], random.Random(i)) for i, p in enumerate(seed["phones"]))
    await staying.join(a)  # the event is followed on A already: no group to join during the outage
    cluster.redis.kill()
    try:
        state = await rejoining.join(a, timeout=ANSWER_TIMEOUT_S)
        assert state["poll"]["id"] == seed["poll"]
        assert (await rejoining.vote(vote(seed, "while-down")))["type"] == "ack"
    finally:
        cluster.redis.start()
        for phone in (staying, rejoining):
            await phone.close()


async def test_group_membership_lost_without_a_disconnect_is_repaired(cluster):
    """Redis emptied under live connections (FLUSHALL; a failover to an empty replica looks the same):
    no connection breaks, so only the hub's membership probe can notice that B left the group."""
    a, b = cluster.worker("a"), cluster.worker("b", graceful=False)
    seed = cluster.seed(phones=2)
    presenter = Client(f"/ws/e/{seed['code']}/present/", seed["moderator"])
    phones = [Phone(seed["code"], p["key"], random.Random(i)) for i, p in enumerate(seed["phones"])]
    await presenter.join(b)
    for phone in phones:
        await phone.join(a)
    assert (await phones[0].vote(vote(seed, "one")))["type"] == "ack"
    await presenter.results(seed["poll"], 1, timeout=ANSWER_TIMEOUT_S)
    cluster.redis.flushall()
    flushed_at = time.monotonic()
    assert (await phones[1].vote(vote(seed, "two")))["type"] == "ack"
    await presenter.results(seed["poll"], 2, timeout=FANOUT_RECOVERY_TIMEOUT_S)
    recovered = time.monotonic() - flushed_at
    for client in (presenter, *phones):
        await client.close()
    record("Redis emptied without a disconnect (FLUSHALL)", presenter_on_b_caught_up_after_s=round(recovered, 2))
