"""Poll countdowns: the server closes a timed poll at zero, whoever is connected.

The process that opened the poll schedules the close on its event loop (or, with no loop,
on a timer thread); every serving process also sweeps for overdue polls, so a countdown
survives a restart. Late ballots are refused by vote_cast from `closes_at` alone.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime

from channels.db import database_sync_to_async
from django.db import connections
from django.utils import timezone

logger = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 2.0


def _expire_in_thread(event_id: int, poll_id: int) -> None:
    from polls.services import poll_expire

    try:
        poll_expire(event_id=event_id, poll_id=poll_id)
    except Exception:
        logger.exception("timer close of poll %s failed", poll_id)
    finally:
        connections.close_all()


def schedule(*, event_id: int, poll_id: int, closes_at: datetime) -> None:
    from polls.fanout import Hub

    delay = max(0.0, (closes_at - timezone.now()).total_seconds())
    hub = Hub.serving()
    if hub is not None:
        try:
            hub.loop.call_soon_threadsafe(hub.schedule_expiry, event_id, poll_id, delay)
            return
        except RuntimeError:
            pass
    timer = threading.Timer(delay + 0.05, _expire_in_thread, args=(event_id, poll_id))
    timer.daemon = True
    timer.start()


async def expire(event_id: int, poll_id: int) -> None:
    """Close the poll at zero (on the serving process's loop)."""
    from polls.services import poll_expire

    try:
        await database_sync_to_async(poll_expire)(event_id=event_id, poll_id=poll_id)
    except Exception:
        logger.exception("timer close of poll %s failed", poll_id)


async def sweep_forever() -> None:
    """Close overdue polls whose process died before their countdown ended."""
    from polls.services import expire_due_polls

    while True:
        await asyncio.sleep(SWEEP_INTERVAL_S)
        try:
            await database_sync_to_async(expire_due_polls)()
        except Exception:
            logger.warning("sweep for overdue poll timers failed", exc_info=True)
