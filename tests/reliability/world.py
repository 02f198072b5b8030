"""An event with an open poll, its moderator and N phones; socket helpers for the in-process fault tests."""

from __future__ import annotations

import json
from types import SimpleNamespace

from channels.db import database_sync_to_async

from polls import selectors, services
from polls.models import Vote, VoteReceipt
from tests.factories import (
    make_case,
    make_event,
    make_moderator,
    make_participant,
    make_poll,
    option_ids,
    participant_session,
    user_session,
)
from tests.live import receive, reply  # noqa: F401 (re-exported)


@database_sync_to_async
def build_world(phones: int = 1) -> SimpleNamespace:
    moderator = make_moderator()
    case = make_case()
    event = make_event(moderators=[moderator], cases=[case])
    poll = make_poll(event, case, labels=("A", "B", "C"))
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    return SimpleNamespace(
        event=event,
        code=event.code,
        poll=poll.id,
        options=option_ids(poll),
        moderator=moderator,
        moderator_key=user_session(moderator),
        phone_keys=[participant_session(make_participant(event)) for _ in range(phones)],
    )


def vote_frame(w: SimpleNamespace, ref: str, option: int = 0) -> dict:
    return {"type": "vote", "ref": ref, "poll": w.poll, "options": [w.options[option]]}


def ack_frame(w: SimpleNamespace, ref: str, option: int = 0) -> dict:
    return {"type": "ack", "ref": ref, "poll": w.poll, "options": [w.options[option]]}


def error_frame(ref: str | None, code: str) -> dict:
    from polls.errors import ERROR_CODES

    return {"type": "error", "ref": ref, "code": code, "message": ERROR_CODES[code]}


async def open_phone(ws, w: SimpleNamespace, index: int = 0):
    """A participant socket that has received its `state` (the connect handler has finished)."""
    socket, ok, detail = await ws(f"/ws/e/{w.code}/", session_key=w.phone_keys[index])
    assert ok, detail
    assert (await receive(socket))["type"] == "state"
    return socket


async def open_console(ws, w: SimpleNamespace, path: str = "moderate"):
    socket, ok, detail = await ws(f"/ws/e/{w.code}/{path}/", session_key=w.moderator_key)
    assert ok, detail
    assert (await receive(socket))["type"] == "state"
    return socket


async def send(socket, frame: dict) -> None:
    await socket.send_to(text_data=json.dumps(frame))


@database_sync_to_async
def tally(w: SimpleNamespace) -> dict:
    total, counts = selectors.poll_tally(poll_id=w.poll)
    return {
        "total": total,
        "counts": counts,
        "votes": Vote.objects.filter(poll_id=w.poll).count(),
        "receipts": VoteReceipt.objects.filter(poll_id=w.poll).count(),
    }
