"""A panelist link's socket: its ballots count as the panel's, and withdrawing the link closes it."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from polls import panel_links, selectors, services
from polls.models import Participant, Vote
from tests.factories import build_world
from tests.live import open_socket, receive, receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)
CLOSE_UNAUTHORISED = 4403


@database_sync_to_async
def invited_world():
    """An open poll, a phone, a console, and a browser session that opened a panelist link."""
    w = build_world(opened=True, phones=1, moderator_session=True)
    invitation = services.panelist_invitation_create(event_id=w.event.id, display_name="Dr Panel", user=w.moderator)
    browser = Client()
    assert browser.get(f"/e/{w.code}/panel/{panel_links.invitation_token(invitation)}/").status_code == 302
    return w, invitation, browser.cookies["sessionid"].value


async def closed_with(socket, code: int, timeout: float = 5) -> None:
    while True:
        output = await socket.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            assert output.get("code") == code
            return


async def test_an_invited_panelists_ballot_counts_as_the_panels(ws):
    w, invitation, key = await invited_world()
    panel, _ = await open_socket(ws, w, "panelist", key=key)
    await send(panel, {"type": "vote", "ref": "p1", "poll": w.poll.id, "options": [w.options[1]]})
    await receive_type(panel, "ack", ref="p1")
    total, _ = await database_sync_to_async(selectors.poll_tally)(poll_id=w.poll.id)
    assert total == 0  # not the audience's

    def the_ballot():
        vote = Vote.objects.select_related("participant").get(poll=w.poll)
        return vote.participant.is_panelist, vote.participant.invitation_id

    assert await database_sync_to_async(the_ballot)() == (True, invitation.pk)


async def test_withdrawing_the_link_closes_its_panel_socket_and_refuses_it_again(ws):
    w, invitation, key = await invited_world()
    panel, _ = await open_socket(ws, w, "panelist", key=key)
    console, _ = await open_socket(ws, w, "moderator")
    await database_sync_to_async(services.panelist_invitation_revoke)(
        event_id=w.event.id, invitation_id=invitation.pk, user=w.moderator
    )
    await closed_with(panel, CLOSE_UNAUTHORISED)
    _, ok, code = await ws(f"/ws/e/{w.code}/panel/", session_key=key)
    assert not ok and code == CLOSE_UNAUTHORISED
    # the console is not affected
    await send(console, {"type": "ping", "ref": "still"})
    frame = await receive(console)
    while frame["type"] != "pong":
        frame = await receive(console)


async def test_a_phone_cannot_open_the_panel_socket_nor_vote_as_the_panel(ws):
    w, invitation, _ = await invited_world()
    _, ok, code = await ws(f"/ws/e/{w.code}/panel/", session_key=w.phone_keys[0])
    assert not ok and code == CLOSE_UNAUTHORISED
    phone, _ = await open_socket(ws, w, "participant", index=0)
    await send(phone, {"type": "vote", "ref": "a1", "poll": w.poll.id, "options": [w.options[0]]})
    await receive_type(phone, "ack", ref="a1")
    total, _ = await database_sync_to_async(selectors.poll_tally)(poll_id=w.poll.id)
    assert total == 1
    panelists = await database_sync_to_async(
        lambda: Participant.objects.filter(is_panelist=True, votes__isnull=False).count()
    )()
    assert panelists == 0


async def test_another_events_panelist_link_does_not_open_this_events_panel_socket(ws):
    w, _, key = await invited_world()
    other = await database_sync_to_async(build_world)()
    _, ok, code = await ws(f"/ws/e/{other.code}/panel/", session_key=key)
    assert not ok and code == CLOSE_UNAUTHORISED
