"""Server frames: each type built here and nowhere else, serialised once per audience.

`SERVER_FRAMES` lists each type's top-level fields; docs/protocol.md is checked against it.
A change is read once, serialised once for the public (phones, projector) and once for
moderators, and carried by the channel layer as text (`frames_message`); a phone's own ballot
and the server's clock are spliced into the shared text as it goes out.
"""

from __future__ import annotations

import json
import time
from typing import Any

from polls import selectors
from polls.errors import ERROR_CODES, DomainError
from polls.models import Poll
from polls.protocol.payloads import (
    case_payload,
    epoch_ms,
    event_payload,
    poll_payload,
    results_payload,
    teaching_point_payload,
)

# Every server frame type and its top-level fields (a `results` frame adds its kind's detail).
SERVER_FRAMES: dict[str, tuple[str, ...]] = {
    "state": (
        "type", "version", "event", "case", "poll", "results", "teaching_points", "my_vote", "server_time", "agenda",
    ),
    "results": ("type", "poll", "total", "version"),
    "ack": ("type", "ref", "poll", "options", "value", "text", "confidence", "results"),
    "error": ("type", "ref", "code", "message"),
    "pong": ("type", "ref"),
}  # fmt: skip

MESSAGE_TYPE = "fanout.frames"
ACCESS_MESSAGE_TYPE = "fanout.access"
BALLOT_FIELDS = ("options", "value", "text", "confidence")

__all__ = ["epoch_ms"]


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


# ------------------------------------------------------------ replies


def ack_frame(*, ref: str | None, poll: int | None = None, **extra: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "ack", "ref": ref}
    if poll is not None:
        frame["poll"] = poll
    frame.update(extra)
    return frame


def error_frame(*, ref: str | None, code: str, message: str | None = None) -> dict[str, Any]:
    assert code in ERROR_CODES, code
    return {"type": "error", "ref": ref, "code": code, "message": message or ERROR_CODES[code]}


def pong_frame(*, ref: str | None) -> dict[str, Any]:
    return {"type": "pong", "ref": ref}


def vote_ack(*, ref: str | None, outcome) -> dict[str, Any]:
    """A vote's ack echoes the ballot as recorded (cleaned text, ordered options) and, unless the
    ref was a resend, the total right after it was written (its results frame without detail)."""
    ballot = outcome.ballot.as_json()
    ack = ack_frame(ref=ref, poll=outcome.poll_id, **{k: ballot[k] for k in BALLOT_FIELDS if k in ballot})
    if outcome.total is not None and outcome.version is not None:
        ack["results"] = results_payload(
            poll_id=outcome.poll_id, total=outcome.total, version=outcome.version, detail=None
        )
    return ack


def ballot_from_ack(frame: dict[str, Any]) -> dict[str, Any] | None:
    if frame.get("type") != "ack" or "options" not in frame:
        return None
    return {k: frame[k] for k in BALLOT_FIELDS if k in frame}


# ------------------------------------------------------------ results


def results_frames(*, poll: Poll, version: int | None = None) -> dict[str, dict[str, Any]]:
    """The `results` frame per audience: the public's detail only once results are revealed."""
    # Taken before the reads (callers may take it before reading the poll): a later frame never holds less.
    version = version or time.time_ns() // 1000
    results = selectors.poll_results(poll=poll)
    public = results.public if poll.results_visible else None
    return {
        "public": results_payload(poll_id=poll.id, total=results.total, version=version, detail=public),
        "moderator": results_payload(poll_id=poll.id, total=results.total, version=version, detail=results.moderator),
    }


# ------------------------------------------------------------ state


def _agenda_payload(event_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": entry.case.id,
            "title": entry.case.title,
            "facts": [{"id": f.id, "label": f.label, "revealed": shown} for f, shown in entry.hidden_facts],
            "polls": [poll_payload(p, moderator=True) for p in entry.polls],
            "teaching_points": [
                {"id": p.id, "title": p.title, "revealed": shown} for p, shown in entry.teaching_points
            ],
        }
        for entry in selectors.agenda(event_id=event_id)
    ]


def state_frames(*, event_id: int) -> dict[str, dict[str, Any]]:
    """The `state` frame per audience ("public" for phones and presenter, "moderator")."""
    event = selectors.event_by_id(event_id=event_id)
    case = selectors.case_for_screen(case_id=event.current_case_id)
    poll = selectors.poll_for_screen(poll_id=event.current_poll_id)
    # Only the case on screen: the previous case's points leave the projector and phones with it.
    points = [
        teaching_point_payload(p)
        for p in selectors.revealed_teaching_points(event_id=event_id)
        if p.case_id == event.current_case_id
    ]
    results = results_frames(poll=poll) if poll is not None and poll.state != "draft" else None
    facts = selectors.revealed_fact_ids(event_id=event_id) if case else set()
    base = {"type": "state", "version": event.state_version, "event": event_payload(event), "teaching_points": points}
    public = {
        **base,
        "case": case_payload(case, revealed_facts=facts) if case else None,
        "poll": poll_payload(poll) if poll else None,
        "results": results["public"] if results else None,
    }
    moderator = {
        **base,
        "case": case_payload(case, revealed_facts=facts, moderator=True) if case else None,
        "poll": poll_payload(poll, moderator=True) if poll else None,
        "results": results["moderator"] if results else None,
        "agenda": _agenda_payload(event_id),
    }
    return {"public": public, "moderator": moderator}


def my_vote(poll_id: int | None, ballot: dict[str, Any] | None) -> dict[str, Any] | None:
    """The participant's own recorded ballot on the current poll, as carried in `state`."""
    if poll_id is None or not ballot:
        return None
    return {"poll": poll_id, **ballot}


def personal_state(state_text: str, my_vote_json: str) -> str:
    """A shared, already-serialised state frame with one phone's own ballot (serialised) and the
    server's clock spliced in: the state is serialised once per change for thousands of phones,
    and each costs one string concatenation."""
    return state_text[:-1] + ',"my_vote":' + my_vote_json + ',"server_time":' + str(time.time_ns() // 1_000_000) + "}"


def with_server_time(state_text: str) -> str:
    """Stamp a shared state frame with the server's clock as sent, so screens can correct
    countdowns for their own clock's error."""
    return state_text[:-1] + ',"server_time":' + str(time.time_ns() // 1_000_000) + "}"


# ------------------------------------------------------------ what the channel layer carries


def frames_message(
    *,
    event_id: int,
    kind: str,
    public: str,
    moderator: str,
    poll_id: int | None = None,
    version: int = 0,
    resets: int = 0,
) -> dict[str, Any]:
    """The channel-layer message of one broadcast: the frame as text for each audience (`resets`:
    how often the poll's votes were reset, so sockets drop ballots they remember from before)."""
    return {
        "resets": resets,
        "type": MESSAGE_TYPE,
        "event": event_id,
        "kind": kind,
        "poll": poll_id,
        "version": version,
        "public": public,
        "moderator": moderator,
    }


def access_message(event_id: int) -> dict[str, Any]:
    """Tells every process that who may moderate or present the event changed."""
    return {"type": ACCESS_MESSAGE_TYPE, "event": event_id}


def build_state_message(event_id: int) -> dict[str, Any]:
    """The `state` frames of an event, serialised once per audience (sync: reads the database)."""
    state = state_frames(event_id=event_id)
    poll = state["public"]["poll"]
    return frames_message(
        event_id=event_id,
        kind="state",
        poll_id=poll["id"] if poll else None,
        resets=poll["resets"] if poll else 0,
        version=state["public"]["version"],
        public=dumps(state["public"]),
        moderator=dumps(state["moderator"]),
    )


def build_results_message(event_id: int, poll_id: int) -> dict[str, Any] | None:
    version = time.time_ns() // 1000  # before the poll is read, so a stale visibility never looks newer
    try:
        poll = selectors.poll_for_event(event_id=event_id, poll_id=poll_id)
    except DomainError:  # deleted since the change was announced
        return None
    results = results_frames(poll=poll, version=version)
    return frames_message(
        event_id=event_id,
        kind="results",
        poll_id=poll_id,
        version=results["public"]["version"],
        public=dumps(results["public"]),
        moderator=dumps(results["moderator"]),
    )
