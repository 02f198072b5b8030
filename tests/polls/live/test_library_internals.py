"""The one library internal the live runtime relies on, checked against the installed library.

The hub asks channels_redis whether it is still in an event's group (polls/live/hub.py,
`Hub.is_member`): one ZSCORE on the group's sorted set, through `_group_key` and
`consistent_hash`, for which channels_redis has no public API. If an upgrade changes them,
these tests fail by name instead of the hub silently probing (or resyncing) every 5 seconds.
"""

from __future__ import annotations

import os
import uuid

import pytest
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer

from caseboard.settings import redis_channel_layer
from polls.live.hub import Hub
from tests.conftest import REQUIRE_SERVICES, service_reachable

REDIS_URL = os.environ.get("REDIS_URL") or os.environ.get("CASEBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def test_channels_redis_still_has_the_group_key_and_shard_choice_the_hub_reads():
    for name in ("_group_key", "consistent_hash", "connection"):
        assert callable(getattr(RedisChannelLayer, name, None)), f"channels_redis no longer has {name}"


def test_the_in_memory_layer_still_keeps_groups_as_a_dict_of_channels():
    layer = InMemoryChannelLayer()
    assert isinstance(layer.groups, dict), "InMemoryChannelLayer.groups is no longer a dict"


async def test_in_memory_membership_is_read_from_the_layer():
    layer = InMemoryChannelLayer()
    hub = Hub.__new__(Hub)  # the membership check alone, without starting a hub on this loop
    hub.layer, hub.channel = layer, await layer.new_channel()
    assert not await hub.is_member(1)
    await layer.group_add("event.1", hub.channel)
    assert await hub.is_member(1)


@pytest.mark.redis
async def test_redis_membership_is_read_from_the_key_group_add_writes():
    if not service_reachable(REDIS_URL, 6379):
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis is required (CASEBOARD_REQUIRE_SERVICES=1) but {REDIS_URL} is not reachable")
        pytest.skip(f"SKIPPED: Redis not reachable at {REDIS_URL}")
    layer = RedisChannelLayer(**redis_channel_layer(REDIS_URL, prefix=f"test-{uuid.uuid4().hex[:8]}")["CONFIG"])
    try:
        hub = Hub.__new__(Hub)
        hub.layer, hub.channel = layer, await layer.new_channel()
        assert not await hub.is_member(7)
        await layer.group_add("event.7", hub.channel)
        assert await hub.is_member(7)
        await layer.group_discard("event.7", hub.channel)
        assert not await hub.is_member(7)
    finally:
        await layer.flush()
        await layer.close_pools()
