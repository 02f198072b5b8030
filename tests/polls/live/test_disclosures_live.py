"""Disclosures before the content (issue 15), through the real ASGI application: the phones get
them at join, the projector page renders them, and the moderator puts them on screen first."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from polls.models import Disclosure
from tests.factories import build_world_async
from tests.live import open_socket, receive_type, send, state_where
from tests.security.asgi import Browser

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def disclose(event):
    Disclosure.objects.create(
        event=event,
        position=1,
        faculty_name="Dr Ada Lovelace",
        role="Speaker",
        relationships="Consultant: Example Pharma",
        mitigation="Content peer-reviewed by the planning committee.",
    )
    Disclosure.objects.create(
        event=event, position=2, faculty_name="Dr Alan Turing", role="Panelist", nothing_to_disclose=True
    )


async def test_without_disclosures_the_screen_is_refused_and_nothing_changes(ws):
    w = await build_world_async(moderator_session=True)
    console, state = await open_socket(ws, w, "moderator")
    await send(console, {"type": "show_screen", "ref": "d1", "screen": "disclosures"})
    error = await receive_type(console, "error", ref="d1")
    assert error["code"] == "invalid_transition" and "no disclosures" in error["message"]
    assert state["event"]["screen"] == "join"


async def test_the_moderator_shows_the_disclosures_first_and_the_projector_follows(ws):
    w = await build_world_async(moderator_session=True)
    await disclose(w.event)
    console, _ = await open_socket(ws, w, "moderator")
    projector, _ = await open_socket(ws, w, "presenter")
    await send(console, {"type": "show_screen", "ref": "d2", "screen": "disclosures"})
    ack = await receive_type(console, "ack", ref="d2")
    assert ack["screen"] == "disclosures"
    shown = await state_where(projector, lambda f: f["event"]["screen"] == "disclosures")
    assert shown["event"]["screen"] == "disclosures"
    # The presenter page (the moderator's session) renders them on its disclosures slide.
    browser = Browser("198.51.100.7")
    browser.cookies["sessionid"] = w.moderator_key
    status, body = await browser.get(f"/e/{w.code}/present/")
    page = body.decode()
    assert status == 200 and 'data-screen-name="disclosures"' in page
    assert (
        "Dr Ada Lovelace" in page
        and "Consultant: Example Pharma" in page
        and "Mitigation: Content peer-reviewed" in page
    )


async def test_a_phone_sees_the_disclosures_when_it_joins(ws):
    w = await build_world_async()
    await disclose(w.event)
    status, body = await Browser("198.51.100.8").get(f"/e/{w.code}/")
    page = body.decode()
    assert status == 200 and 'data-testid="disclosures" open' in page
    assert page.index("Dr Ada Lovelace") < page.index("Dr Alan Turing")  # in the organiser's order
    assert "Nothing to disclose" in page and "Consultant: Example Pharma" in page
