"""The one way to tell connected screens about a change: after the transaction commits."""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The change is committed; screens resynchronise from `state` on reconnect and
        # the fan-out hub rebuilds its cache when the layer comes back.
        logger.exception("broadcast to %s failed", group)


def broadcast_on_commit(group: str, message: dict[str, Any]) -> None:
    """Send `message` to `group` once the surrounding transaction commits (never if it rolls back).

    The message is round-tripped through JSON first so a payload the Redis layer could not
    carry (UUID, datetime, Decimal) fails here, in tests, rather than in production.
    """
    message = json.loads(json.dumps(message))
    transaction.on_commit(lambda: _send(group, message))
