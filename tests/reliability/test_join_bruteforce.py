"""Join codes cannot be brute-forced over websockets: failed joins are limited per client IP, as over HTTP."""

from __future__ import annotations

import itertools
import random

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from tests.factories import build_world

pytestmark = [pytest.mark.django_db(transaction=True)]

LIMIT = 10  # CASEBOARD_JOIN_FAILURES_PER_MINUTE default
_guesses = itertools.count()


def fresh_ip() -> str:
    """An address no other test of this run has used (the cache's keys are this run's alone)."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def guess() -> str:
    return f"ZZ{next(_guesses):04d}"  # valid alphabet, never a factory code (those start with T)


@database_sync_to_async
def event_with_phone():
    world = build_world(poll=False, phones=1)
    return world.event, world.phone_keys[0]


async def test_unknown_codes_are_limited_per_ip_and_a_blocked_ip_learns_nothing(ws):
    event, phone_key = await event_with_phone()
    ip = fresh_ip()
    for _ in range(LIMIT):
        _, ok, code = await ws(f"/ws/e/{guess()}/", ip=ip)
        assert (ok, code) == (False, 4404)
    # Over the limit: a wrong code and a real one (without a session) get the same answer.
    _, ok, code = await ws(f"/ws/e/{guess()}/", ip=ip)
    assert (ok, code) == (False, 4429)
    _, ok, code = await ws(f"/ws/e/{event.code}/", ip=ip)
    assert (ok, code) == (False, 4429)
    _, ok, code = await ws(f"/ws/e/{event.code}/present/", ip=ip)
    assert (ok, code) == (False, 4429)
    # Phones that already joined keep reconnecting from behind the same (congress NAT) address.
    phone, ok, _ = await ws(f"/ws/e/{event.code}/", ip=ip, session_key=phone_key)
    assert ok
    # Another address is not affected.
    _, ok, code = await ws(f"/ws/e/{guess()}/", ip=fresh_ip())
    assert (ok, code) == (False, 4404)


async def test_moderator_socket_gives_guessers_no_signal_and_counts_nothing(ws):
    """The moderator socket answers 4403 for a missing and a forbidden event alike."""
    event, _ = await event_with_phone()
    ip = fresh_ip()
    for path in (f"/ws/e/{guess()}/moderate/", f"/ws/e/{event.code}/moderate/"):
        _, ok, code = await ws(path, ip=ip)
        assert (ok, code) == (False, 4403)


async def test_http_and_websocket_guesses_share_one_budget(ws):
    client = Client(REMOTE_ADDR=(ip := fresh_ip()))
    for _ in range(LIMIT):
        response = await database_sync_to_async(client.get)("/", {"code": guess()})
        assert response.status_code == 404
    _, ok, code = await ws(f"/ws/e/{guess()}/", ip=ip)
    assert (ok, code) == (False, 4429)


async def test_guessing_works_again_when_the_cache_is_down(ws, monkeypatch):
    """Fail open: with the cache (Redis) unreachable the limit is off, but guesses still only get 4404."""
    from polls import joins

    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("cache unreachable")

            return fail

    monkeypatch.setattr(joins, "cache", Down())
    _, ok, code = await ws(f"/ws/e/{guess()}/", ip=fresh_ip())
    assert (ok, code) == (False, 4404)
