"""A phone's own profile answers come back in its `state` (`my_profile`), so it can show them and
let the participant edit them; nobody else's state carries them."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from polls import services
from tests.factories import build_world_async
from tests.live import open_socket, receive_type, send, state_where

pytestmark = pytest.mark.django_db(transaction=True)


async def world():
    return await build_world_async(
        profile_fields=["setting", "experience"], panelists=1, phones=2, moderator_session=True
    )


async def test_my_profile_is_null_until_saved_then_the_saved_answers_after_a_reconnect_and_an_edit(ws):
    w = await world()
    phone, state = await open_socket(ws, w, index=0)
    assert state["my_profile"] is None
    await send(phone, {"type": "profile", "ref": "p1", "answers": {"setting": "Community practice"}})
    await receive_type(phone, "ack", ref="p1")
    # the same socket's next state shows the new answers (no reload needed)
    await database_sync_to_async(services.case_show)(event_id=w.event.id, case_id=w.case.id, user=w.moderator)
    state = await state_where(phone, lambda f: f["case"] is not None)
    assert state["my_profile"] == {"setting": "Community practice"}
    # a reload (a new socket) reads them from the server
    again, state = await open_socket(ws, w, index=0)
    assert state["my_profile"] == {"setting": "Community practice"}
    # an edit replaces them
    await send(
        again, {"type": "profile", "ref": "p2", "answers": {"setting": "Academic centre", "experience": "Over 20"}}
    )
    await receive_type(again, "ack", ref="p2")
    _, state = await open_socket(ws, w, index=0)
    assert state["my_profile"] == {"setting": "Academic centre", "experience": "Over 20"}
    # another phone, the console and the panel never see them
    _, other = await open_socket(ws, w, index=1)
    assert other["my_profile"] is None
    _, console = await open_socket(ws, w, "moderator")
    _, panel = await open_socket(ws, w, "panelist")
    assert "my_profile" not in console and "my_profile" not in panel


async def test_skipping_every_question_with_save_is_an_empty_answer_not_null(ws):
    w = await world()
    phone, _ = await open_socket(ws, w, index=0)
    await send(phone, {"type": "profile", "ref": "p1", "answers": {"setting": "", "experience": ""}})
    await receive_type(phone, "ack", ref="p1")
    _, state = await open_socket(ws, w, index=0)
    assert state["my_profile"] == {}


async def test_the_http_fallback_state_carries_my_profile(ws):
    w = await world()

    def fallback() -> tuple:
        client = Client()
        client.cookies["sessionid"] = w.phone_keys[0]
        before = json.loads(client.get(f"/e/{w.code}/state.json").content)["my_profile"]
        saved = client.post(
            f"/e/{w.code}/profile",
            json.dumps({"type": "profile", "ref": "h1", "answers": {"experience": "Under 5"}}),
            content_type="application/json",
        )
        assert saved.status_code == 200, saved.content
        after = json.loads(client.get(f"/e/{w.code}/state.json").content)["my_profile"]
        return before, after

    assert await database_sync_to_async(fallback)() == (None, {"experience": "Under 5"})
