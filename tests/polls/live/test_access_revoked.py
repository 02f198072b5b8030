"""Consoles and projectors live only as long as the right to them: each moderator command is
authorised as of now, and a logout, a removal, a deactivation or a rotated presenter key closes
the sockets opened under the old right."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from caseboard.sessions import SessionStore
from polls import services
from tests.factories import make_case, make_event, make_moderator, make_poll, user_session
from tests.live import receive_type, send

pytestmark = [pytest.mark.django_db(transaction=True)]
CLOSE_UNAUTHORISED = 4403


@database_sync_to_async
def build():
    owner = make_moderator("owner", is_staff=True)
    moderator = make_moderator("comoderator", is_staff=True)
    case = make_case()
    event = make_event(moderators=[owner, moderator], cases=[case], owner=owner)
    return owner, moderator, event, make_poll(event, case)


async def open_console(ws, event, user) -> tuple:
    key = await database_sync_to_async(user_session)(user)
    console, ok, _ = await ws(f"/ws/e/{event.code}/moderate/", session_key=key)
    assert ok
    await receive_type(console, "state")
    return console, key


async def closed_with(socket, code: int, timeout: float = 5) -> None:
    """Frames before the close are skipped; the socket must then close with `code`."""
    while True:
        output = await socket.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            assert output.get("code") == code
            return


async def test_a_command_after_logout_is_refused_and_the_console_closed(ws):
    owner, moderator, event, poll = await build()
    console, key = await open_console(ws, event, moderator)
    await database_sync_to_async(SessionStore(session_key=key).delete)()  # what logout does
    await send(console, {"type": "open_poll", "ref": "late", "poll": poll.id})
    await closed_with(console, CLOSE_UNAUTHORISED)
    assert (await database_sync_to_async(lambda: type(poll).objects.get(pk=poll.id).state)()) == "draft"


async def test_a_logout_closes_the_console_without_waiting_for_a_command(ws):
    owner, moderator, event, poll = await build()
    console, key = await open_console(ws, event, moderator)

    def log_out():
        client = Client()
        client.cookies["sessionid"] = key
        assert client.post("/accounts/logout/").status_code in (200, 302)

    await database_sync_to_async(log_out)()
    await closed_with(console, CLOSE_UNAUTHORISED)


async def test_removal_from_the_event_closes_that_moderators_console_only(ws):
    owner, moderator, event, poll = await build()
    removed, _ = await open_console(ws, event, moderator)
    staying, _ = await open_console(ws, event, owner)
    await database_sync_to_async(services.event_moderators_set)(event_id=event.id, moderator_ids={owner.pk}, user=owner)
    await closed_with(removed, CLOSE_UNAUTHORISED)
    await send(staying, {"type": "ping", "ref": "still"})
    assert (await receive_type(staying, "pong"))["ref"] == "still"


async def test_a_deactivated_account_loses_its_console(ws):
    owner, moderator, event, poll = await build()
    console, _ = await open_console(ws, event, moderator)

    def deactivate():
        moderator.is_active = False
        moderator.save()

    await database_sync_to_async(deactivate)()
    await closed_with(console, CLOSE_UNAUTHORISED)


async def test_a_rotated_presenter_key_closes_the_projector_opened_with_the_old_one(ws):
    owner, moderator, event, poll = await build()

    def projector_session() -> str:
        client = Client()
        assert client.get(f"/e/{event.code}/present/?key={event.presenter_token}").status_code == 302
        return client.cookies["sessionid"].value

    key = await database_sync_to_async(projector_session)()
    projector, ok, _ = await ws(f"/ws/e/{event.code}/present/", session_key=key)
    assert ok
    await receive_type(projector, "state")
    await database_sync_to_async(services.presenter_key_rotate)(event_id=event.id, user=owner)
    await closed_with(projector, CLOSE_UNAUTHORISED)
    again, ok, _ = await ws(f"/ws/e/{event.code}/present/", session_key=key)
    assert not ok
