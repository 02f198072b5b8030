"""Results coalescing: however fast votes arrive, a poll's tally is read and broadcast at most
once per RESULTS_MIN_INTERVAL_S, never two at once, and always once more after the last vote.

A committed vote only marks its poll dirty (`results_changed`, from the database thread); the
process's Coalescer reads the tally once per tick and broadcasts it through the channel layer,
where every process's Hub (polls/live/hub.py) picks it up and writes it to its own sockets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from polls.live.groups import event_group
from polls.protocol import outbound

logger = logging.getLogger(__name__)

# Reads of the tally may hold the process's one database thread at most this share of the time.
TALLY_READ_SHARE = 0.1


class Coalescer:
    """The results broadcasts of one event loop, one flusher task per dirty poll."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task],
    ) -> None:
        self.loop = loop
        self._spawn = spawn
        self._dirty: dict[int, int] = {}  # poll -> event
        self._flushers: dict[int, asyncio.Task] = {}
        self._last_flush: dict[int, float] = {}
        self._read_s: dict[int, float] = {}  # poll -> seconds its last tally read took

    def tasks(self) -> list[asyncio.Task]:
        return list(self._flushers.values())

    def mark_dirty(self, event_id: int, poll_id: int) -> None:
        self._dirty[poll_id] = event_id
        if poll_id not in self._flushers:
            self._flushers[poll_id] = self._spawn(self._flush(poll_id))

    async def _flush(self, poll_id: int) -> None:
        try:
            while poll_id in self._dirty:
                wait = self._last_flush.get(poll_id, 0.0) + self.spacing(poll_id) - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                # Taken off the dirty set before reading: a vote committed during the read marks
                # the poll again, so the tally that includes it is read on the next tick.
                event_id = self._dirty.pop(poll_id)
                self._last_flush[poll_id] = self.loop.time()
                try:
                    self._read_s[poll_id] = await self.publish(event_id=event_id, key=poll_id) or 0.0
                except Exception:
                    logger.exception("results broadcast for poll %s failed", poll_id)
        finally:
            self._flushers.pop(poll_id, None)

    async def publish(self, *, event_id: int, key: int) -> float:
        """Read and broadcast what is due: here a poll's results (QuestionsCoalescer: an event's questions)."""
        return await publish_results(event_id=event_id, poll_id=key)

    def spacing(self, poll_id: int) -> float:
        """Seconds between results broadcasts of a poll: RESULTS_MIN_INTERVAL_S, or longer when
        reading the tally is so slow that it would hold the database thread more than
        TALLY_READ_SHARE of the time."""
        return max(settings.CASEBOARD["RESULTS_MIN_INTERVAL_S"], self._read_s.get(poll_id, 0.0) / TALLY_READ_SHARE)


class QuestionsCoalescer(Coalescer):
    """The `questions` broadcasts of one event loop: however fast a room upvotes, an event's
    questions are read and broadcast at most once per RESULTS_MIN_INTERVAL_S, and once more after
    the last change. Keyed by event (a `questions` frame lists all of an event's questions)."""

    def mark_event_dirty(self, event_id: int) -> None:
        self.mark_dirty(event_id, event_id)

    async def publish(self, *, event_id: int, key: int) -> float:
        return await publish_questions(event_id=event_id)


async def publish_questions(*, event_id: int) -> float:
    """Read the event's questions and broadcast them; returns the seconds the read held the database thread."""

    def build() -> tuple[dict[str, Any], float]:
        began = time.perf_counter()
        return outbound.build_questions_message(event_id), time.perf_counter() - began

    message, busy = await database_sync_to_async(build)()
    await get_channel_layer().group_send(event_group(event_id), message)
    return busy


async def publish_results(*, event_id: int, poll_id: int) -> float:
    """Read the poll's tally and broadcast it; returns the seconds the read held the database thread."""

    def build() -> tuple[dict[str, Any] | None, float]:
        began = time.perf_counter()
        return outbound.build_results_message(event_id, poll_id), time.perf_counter() - began

    message, busy = await database_sync_to_async(build)()
    if message is not None:
        await get_channel_layer().group_send(event_group(event_id), message)
    return busy
