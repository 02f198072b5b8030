"""A go-live refused by the identifier guard (issue 16), through the real application: the error
keeps its code and message, and names the flagged cases (ids and titles) so that the console can
link to each one's page; the flagged text itself is never in the frame."""

import json

import pytest
from channels.db import database_sync_to_async

from cases.identifiers import warm
from cases.models import CaseFact
from tests.factories import build_world_async, make_case
from tests.live import open_socket, receive_type, send

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True, scope="module")
def identifier_guard_loaded():
    warm()


@database_sync_to_async
def db(fn):
    return fn()


async def test_a_refused_start_names_the_flagged_cases_never_the_text(ws):
    w = await build_world_async(moderator_session=True)
    clean = await db(lambda: make_case(title="Clean case"))
    await db(lambda: w.event.agenda.create(case=clean, position=9))
    await db(lambda: CaseFact.objects.create(case=w.case, position=1, label="Contact", text="Son on 717-555-0143"))
    socket, _ = await open_socket(ws, w, "moderator")
    for ref, frame in (("go", {"type": "start_event"}), ("open", {"type": "open_poll", "poll": w.poll.id})):
        await send(socket, {**frame, "ref": ref})
        error = await receive_type(socket, "error", ref=ref)
        assert error["code"] == "unacknowledged_identifiers"
        assert error["message"].startswith("1 passage(s) may identify a patient:")
        assert error["cases"] == [{"id": w.case.id, "title": w.case.title}]  # not the clean case
        assert "717" not in json.dumps(error)
