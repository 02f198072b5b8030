"""The channels-redis settings survive what broke the defaults: idle readers and connection bursts."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from channels_redis.core import RedisChannelLayer

from caseboard.settings import redis_channel_layer
from tests.conftest import REQUIRE_SERVICES, service_reachable

REDIS_URL = os.environ.get("REDIS_URL") or os.environ.get("CASEBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")

pytestmark = pytest.mark.redis


@pytest.fixture
async def layer():
    if not service_reachable(REDIS_URL, 6379):
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis is required (CASEBOARD_REQUIRE_SERVICES=1) but {REDIS_URL} is not reachable")
        pytest.skip(f"SKIPPED: Redis not reachable at {REDIS_URL}")
    config = redis_channel_layer(REDIS_URL, prefix=f"test-{uuid.uuid4().hex[:8]}")["CONFIG"]
    layer = RedisChannelLayer(**config)
    yield layer
    await layer.flush()
    await layer.close_pools()


async def test_idle_reader_outlives_redis_py_default_socket_timeout(layer):
    channel = await layer.new_channel()
    reader = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(6.5)  # longer than redis-py's 5 s default socket_timeout
    assert not reader.done(), reader.exception() if reader.done() else None
    await layer.send(channel, {"type": "hello"})
    assert await asyncio.wait_for(reader, 5) == {"type": "hello"}


async def test_connection_burst_beyond_redis_py_default_pool_size(layer):
    # Each blocked BZPOPMIN holds a pooled connection: 300 at once exceeds redis-py's default of 100.
    channels = [f"burst.{uuid.uuid4().hex}" for _ in range(300)]
    readers = [asyncio.ensure_future(layer.receive(name)) for name in channels]

    async def all_blocked() -> None:  # every reader waiting in BZPOPMIN on a connection of its own
        while (await layer.connection(0).info("clients"))["blocked_clients"] < len(channels):
            assert not any(reader.done() for reader in readers), "a reader failed"
            await asyncio.sleep(0.01)

    await asyncio.wait_for(all_blocked(), 30)
    await asyncio.gather(*(layer.send(name, {"type": "go", "n": i}) for i, name in enumerate(channels)))
    received = await asyncio.wait_for(asyncio.gather(*readers), 20)
    assert [m["n"] for m in received] == list(range(300))


async def test_settings_override_the_risky_defaults(layer):
    host = layer.hosts[0]
    assert host["socket_timeout"] is None
    assert host["max_connections"] >= 1000
