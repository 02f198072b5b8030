"""Issue 18: an error frame's `message` is in the language of the page that opened the socket; its
`code` never changes. Through the real ASGI application, with the page's own socket URL."""

from __future__ import annotations

import json
import re

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from tests.factories import build_world
from tests.live import open_socket, receive, reply, send

pytestmark = [pytest.mark.django_db(transaction=True)]

SPANISH_UNKNOWN_POLL = "Esa encuesta no forma parte de este evento."
GERMAN_UNKNOWN_POLL = "Diese Umfrage gehört nicht zu dieser Veranstaltung."


@database_sync_to_async
def spanish_event_and_a_phones_socket_path(headers: dict) -> tuple:
    """A Spanish event, and the socket path its participant page gives a new phone."""
    world = build_world(opened=True, moderator_session=True)
    world.event.language = "es"
    world.event.save(update_fields=["language"])
    client = Client(**headers)
    page = client.get(f"/e/{world.code}/").content.decode()
    config = json.loads(re.search(r'id="caseboard-config" type="application/json">(.*?)</script>', page)[1])
    return world, config["ws_path"], client.cookies["sessionid"].value


async def unknown_poll_error(ws, world, path: str, key: str) -> dict:
    socket, ok, detail = await ws(path, session_key=key)
    assert ok, detail
    assert (await receive(socket))["type"] == "state"
    await send(socket, {"type": "vote", "ref": "r1", "poll": 999999, "options": [1]})
    return await reply(socket)


async def test_a_spanish_phone_gets_its_error_in_spanish(ws):
    world, path, key = await spanish_event_and_a_phones_socket_path({})
    assert path.endswith("lang=es")
    frame = await unknown_poll_error(ws, world, path, key)
    assert frame == {"type": "error", "ref": "r1", "code": "unknown_poll", "message": SPANISH_UNKNOWN_POLL}


async def test_a_phone_that_switched_to_german_gets_german_on_a_spanish_event(ws):
    world, path, key = await spanish_event_and_a_phones_socket_path({"HTTP_COOKIE": "django_language=de"})
    frame = await unknown_poll_error(ws, world, path, key)
    assert frame["code"] == "unknown_poll" and frame["message"] == GERMAN_UNKNOWN_POLL


async def test_an_unknown_language_on_the_socket_url_gets_english(ws):
    world, path, key = await spanish_event_and_a_phones_socket_path({})
    frame = await unknown_poll_error(ws, world, path.replace("lang=es", "lang=xx"), key)
    assert frame["message"] == "That poll is not part of this event."
    # The console's socket words its errors in its own page's language too.
    console, _state = await open_socket(ws, world, "moderator", query="?lang=fr")
    await send(console, {"type": "open_poll", "ref": "c1", "poll": 999999})
    frame = await reply(console)
    assert frame["code"] == "unknown_poll" and frame["message"] == "Ce sondage ne fait pas partie de cet événement."
