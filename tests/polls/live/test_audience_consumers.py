"""Profiles over the participant socket; the panel's own socket; rounds and splits from the console."""

import pytest
from channels.db import database_sync_to_async

from polls import selectors
from polls.models import Participant
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
from tests.live import ack_and_state, receive, receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def build():
    moderator, faculty = make_moderator(), make_moderator()
    case = make_case()
    event = make_event(moderators=[moderator], cases=[case], profile_fields=["setting"])
    event.panelists.add(faculty)
    poll = make_poll(event, case)
    participant = make_participant(event)
    return dict(moderator=moderator, faculty=faculty, event=event, poll=poll, participant=participant,
                options=option_ids(poll), phone_key=participant_session(participant),
                faculty_key=user_session(faculty), moderator_key=user_session(moderator))  # fmt: skip


async def test_profile_frame_stores_answers_and_refuses_unknown_ones(ws):
    world = await build()
    phone, ok, _ = await ws(f"/ws/e/{world['event'].code}/", session_key=world["phone_key"])
    assert ok
    state = await receive_type(phone, "state")
    assert state["event"]["profile_questions"][0]["key"] == "setting"
    await send(phone, {"type": "profile", "ref": "p1", "answers": {"setting": "Community practice"}})
    assert await receive_type(phone, "ack") == {
        "type": "ack",
        "ref": "p1",
        "profile": {"setting": "Community practice"},
    }
    await send(phone, {"type": "profile", "ref": "p2", "answers": {"specialty": "Pathology"}})
    assert (await receive_type(phone, "error"))["code"] == "invalid_profile"
    stored = await database_sync_to_async(lambda: Participant.objects.get(pk=world["participant"].id).profile)()
    assert stored == {"setting": "Community practice"}


async def test_panelist_socket_votes_apart_from_the_audience(ws):
    world = await build()
    console, ok, _ = await ws(f"/ws/e/{world['event'].code}/moderate/", session_key=world["moderator_key"])
    await receive_type(console, "state")
    await send(console, {"type": "open_poll", "ref": "o", "poll": world["poll"].id})
    await receive_type(console, "ack", ref="o")
    panel, ok, _ = await ws(f"/ws/e/{world['event'].code}/panel/", session_key=world["faculty_key"])
    assert ok
    await receive_type(panel, "state")
    await send(panel, {"type": "vote", "ref": "f1", "poll": world["poll"].id, "options": [world["options"][1]]})
    await receive_type(panel, "ack", ref="f1")
    total, counts = await database_sync_to_async(selectors.poll_tally)(poll_id=world["poll"].id)
    assert total == 0 and set(counts.values()) == {0}
    while True:
        frame = await receive(console)
        if frame["type"] == "results" and "panel" in frame:
            break
    assert frame["total"] == 0 and frame["panel"]["counts"][str(world["options"][1])] == 1
    # a participant's session, or a user who is not on the panel, cannot open the panel socket
    _, ok, code = await ws(f"/ws/e/{world['event'].code}/panel/", session_key=world["phone_key"])
    assert not ok and code == 4403
    _, ok, code = await ws(f"/ws/e/{world['event'].code}/panel/", session_key=world["moderator_key"])
    assert not ok and code == 4403


async def test_console_adds_a_round_and_chooses_the_presenter_split(ws):
    world = await build()
    console, ok, _ = await ws(f"/ws/e/{world['event'].code}/moderate/", session_key=world["moderator_key"])
    await receive_type(console, "state")
    await send(console, {"type": "new_round", "ref": "r", "poll": world["poll"].id})
    ack, state = await ack_and_state(console, "r")
    assert ack["round"] == 2
    assert [p["round"] for p in state["agenda"][0]["polls"]] == [1, 2]
    await send(console, {"type": "show_segments", "ref": "s", "attribute": "setting"})
    _, state = await ack_and_state(console, "s")
    assert state["event"]["segment"] == "setting"
    await send(console, {"type": "show_segments", "ref": "t", "attribute": "experience"})
    assert (await receive_type(console, "error"))["code"] == "unknown_attribute"
