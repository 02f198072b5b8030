"""The runtime's ear on the domain: announcements (polls/announce.py) become channel-layer frames.

Subscribed when Django starts (polls/live/apps.py), in every process: a server process, and also
the admin or a management command, whose changes must reach the sockets other processes serve.
Both run after the change committed, on the thread that committed it.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from polls.live.groups import event_group
from polls.live.hub import Hub
from polls.protocol import outbound

logger = logging.getLogger(__name__)


def _send(group: str, message: dict[str, Any]) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:
        # The change is committed; screens resynchronise from `state` on reconnect and
        # the fan-out hub rebuilds its cache when the layer comes back.
        logger.exception("broadcast to %s failed", group)


class LiveBroadcast:
    """Turns the domain's announcements into frames for every process's hub."""

    def state_changed(self, *, event_id: int) -> None:
        # Read once here, serialised once per audience, shared by every process and socket.
        _send(event_group(event_id), outbound.build_state_message(event_id))

    def results_changed(self, *, event_id: int, poll_id: int) -> None:
        # The committing thread is the process's one database thread: it hands the poll to the
        # hub's loop without waiting, and the hub's coalescer reads the tally at its own pace.
        hub = Hub.serving()
        if hub is not None:
            try:
                hub.loop.call_soon_threadsafe(hub.mark_dirty, event_id, poll_id)
                return
            except RuntimeError:  # the loop closed in between
                pass
        # No sockets are served from this process (admin, management command): read and send now.
        message = outbound.build_results_message(event_id, poll_id)
        if message is not None:
            _send(event_group(event_id), message)

    def questions_changed(self, *, event_id: int) -> None:
        # As for results: the hub's loop coalesces a room's upvotes into paced `questions` frames.
        hub = Hub.serving()
        if hub is not None:
            try:
                hub.loop.call_soon_threadsafe(hub.mark_questions_dirty, event_id)
                return
            except RuntimeError:  # the loop closed in between
                pass
        _send(event_group(event_id), outbound.build_questions_message(event_id))

    def access_changed(self, *, event_id: int) -> None:
        _send(event_group(event_id), outbound.access_message(event_id))


LIVE_BROADCAST = LiveBroadcast()
