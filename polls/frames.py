"""An event's frames as the fan-out carries them: read once per change, serialised once per audience."""

from __future__ import annotations

import time
from typing import Any

from polls import protocol, selectors
from polls.models import Poll

MESSAGE_TYPE = "fanout.frames"


def frames_message(
    *, event_id: int, kind: str, public: str, moderator: str, poll_id: int | None = None, version: int = 0
) -> dict[str, Any]:
    """The channel-layer message of one broadcast: the frame as text for each audience."""
    return {
        "type": MESSAGE_TYPE,
        "event": event_id,
        "kind": kind,
        "poll": poll_id,
        "version": version,
        "public": public,
        "moderator": moderator,
    }


def build_state_message(event_id: int) -> dict[str, Any]:
    """The `state` frames of an event, serialised once per audience (sync: reads the database)."""
    state = selectors.event_state(event_id=event_id)
    poll = state["public"]["poll"]
    return frames_message(
        event_id=event_id,
        kind="state",
        poll_id=poll["id"] if poll else None,
        version=state["public"]["version"],
        public=protocol.dumps(state["public"]),
        moderator=protocol.dumps(state["moderator"]),
    )


def build_results_message(event_id: int, poll_id: int) -> dict[str, Any] | None:
    version = time.time_ns() // 1000  # before the poll is read, so a stale visibility never looks newer
    poll = Poll.objects.select_related("event").filter(pk=poll_id, event_id=event_id).first()
    if poll is None:
        return None
    results = selectors.results_frames(poll=poll, version=version)
    return frames_message(
        event_id=event_id,
        kind="results",
        poll_id=poll_id,
        version=results["public"]["version"],
        public=protocol.dumps(results["public"]),
        moderator=protocol.dumps(results["moderator"]),
    )
