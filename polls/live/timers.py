"""Poll countdowns: the server closes a timed poll at zero, whoever is connected.

One mechanism: each serving process runs a PollCloser on its event loop. It closes every open
poll whose `closes_at` has passed, then sleeps until the earliest remaining countdown, or until
the hub hears of a state change (a poll opened here or in another process), or MAX_WAIT_S.
Deadlines live in the database, so a countdown survives a restart of the process that started
it; `poll_expire` is idempotent, so several processes closing the same poll close it once.
Ballots that arrive after zero but before the close are refused by `closes_at` alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from channels.db import database_sync_to_async
from django.utils import timezone

from polls import selectors, services

logger = logging.getLogger(__name__)

# A safety net for a wake-up lost with the channel layer: never sleep longer than this.
MAX_WAIT_S = 30.0
# Wake a moment after the deadline, not on it: the loop's timers may fire a little early.
GRACE_S = 0.05


class PollCloser:
    def __init__(self, *, clock: Callable[[], datetime] = timezone.now) -> None:
        self.clock = clock
        self._woken = asyncio.Event()
        self.closed = 0  # polls this closer closed, for tests and diagnostics

    def wake(self) -> None:
        """A state changed somewhere: a new countdown may be earlier than the one awaited."""
        self._woken.set()

    async def tick(self) -> float:
        """Close what is due now; returns the seconds to sleep until the next countdown ends."""
        self._woken.clear()  # before reading: a wake during the reads is not lost
        now = self.clock()
        try:
            self.closed += await database_sync_to_async(services.expire_due_polls)(now=now)
            deadline = await database_sync_to_async(selectors.next_poll_deadline)()
        except Exception:
            logger.warning("closing timed polls failed; retrying", exc_info=True)
            return MAX_WAIT_S / 10
        if deadline is None:
            return MAX_WAIT_S
        return min(MAX_WAIT_S, max(0.0, (deadline - self.clock()).total_seconds()) + GRACE_S)

    async def run(self) -> None:
        while True:
            wait = await self.tick()
            try:
                # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that lands in the
                # turn in which the wake-up completes, and the closer would outlive Hub.close().
                async with asyncio.timeout(wait):
                    await self._woken.wait()
            except TimeoutError:
                pass
