"""Profiles over the participant socket; the panel's own socket; rounds and splits from the console."""

import pytest
from channels.db import database_sync_to_async

from polls import selectors
from polls.models import Participant
from tests.factories import build_world_async
from tests.live import ack_and_state, open_socket, receive, receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)


async def world():
    return await build_world_async(profile_fields=["setting"], panelists=1, phones=1, moderator_session=True)


async def test_profile_frame_stores_answers_and_refuses_unknown_ones(ws):
    w = await world()
    phone, state = await open_socket(ws, w, index=0)
    assert state["event"]["profile_questions"][0]["key"] == "setting"
    await send(phone, {"type": "profile", "ref": "p1", "answers": {"setting": "Community practice"}})
    assert await receive_type(phone, "ack") == {
        "type": "ack",
        "ref": "p1",
        "profile": {"setting": "Community practice"},
    }
    await send(phone, {"type": "profile", "ref": "p2", "answers": {"specialty": "Pathology"}})
    assert (await receive_type(phone, "error"))["code"] == "invalid_profile"
    stored = await database_sync_to_async(lambda: Participant.objects.get(pk=w.participants[0].id).profile)()
    assert stored == {"setting": "Community practice"}


async def test_panelist_socket_votes_apart_from_the_audience(ws):
    w = await world()
    console, _ = await open_socket(ws, w, "moderator")
    await send(console, {"type": "open_poll", "ref": "o", "poll": w.poll.id})
    await receive_type(console, "ack", ref="o")
    panel, _ = await open_socket(ws, w, "panelist")
    await send(panel, {"type": "vote", "ref": "f1", "poll": w.poll.id, "options": [w.options[1]]})
    await receive_type(panel, "ack", ref="f1")
    total, counts = await database_sync_to_async(selectors.poll_tally)(poll_id=w.poll.id)
    assert total == 0 and set(counts.values()) == {0}
    while True:
        frame = await receive(console)
        if frame["type"] == "results" and "panel" in frame:
            break
    # One panelist is a cell under the event's min_cell_size: its size, never its vote.
    assert frame["total"] == 0 and frame["panel"] == {"total": 1, "suppressed": True}
    # a participant's session, or a user who is not on the panel, cannot open the panel socket
    _, ok, code = await ws(f"/ws/e/{w.code}/panel/", session_key=w.phone_keys[0])
    assert not ok and code == 4403
    _, ok, code = await ws(f"/ws/e/{w.code}/panel/", session_key=w.moderator_key)
    assert not ok and code == 4403


async def test_console_adds_a_round_and_chooses_the_presenter_split(ws):
    w = await world()
    console, _ = await open_socket(ws, w, "moderator")
    await send(console, {"type": "new_round", "ref": "r", "poll": w.poll.id})
    ack, state = await ack_and_state(console, "r")
    assert ack["round"] == 2
    assert [p["round"] for p in state["agenda"][0]["polls"]] == [1, 2]
    await send(console, {"type": "show_segments", "ref": "s", "attribute": "setting"})
    _, state = await ack_and_state(console, "s")
    assert state["event"]["segment"] == "setting"
    await send(console, {"type": "show_segments", "ref": "t", "attribute": "experience"})
    assert (await receive_type(console, "error"))["code"] == "unknown_attribute"
