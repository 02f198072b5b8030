"""No case text, vote or participant input reaches the logs at INFO or above."""

import io
import logging

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError

from polls import services
from tests.factories import build_world
from tests.live import open_phone, receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "ZEBRA-7731"


@pytest.fixture
def log_output():
    handler = next(
        h for h in logging.getLogger().handlers if any(f.__class__.__name__ == "RedactExceptionText" for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@database_sync_to_async
def world():
    return build_world(
        case={"clinical_question": f"Question {SECRET}", "current_status": f"Status {SECRET}"},
        profile_fields=["setting"],
        kind="text",
        labels=(),
        opened=True,
        phones=1,
    )


async def test_votes_failures_and_bad_frames_leave_no_participant_input_in_the_logs(
    ws, log_output, monkeypatch, client
):
    w = await world()
    poll = w.poll
    phone = await open_phone(ws, w)
    await send(phone, {"type": "vote", "ref": f"r-{SECRET}", "poll": poll.id, "text": f"answer {SECRET}"})
    await receive_type(phone, "ack")
    await phone.send_to(text_data=f"{{not json {SECRET}")
    await receive_type(phone, "error")
    await send(phone, {"type": "profile", "ref": "p", "answers": {"setting": f"Mars {SECRET}"}})
    await receive_type(phone, "error")

    def database_down(*args, **kwargs):
        raise OperationalError(f'duplicate key: Key (participant_id, ref)=(1, "{SECRET}")')

    monkeypatch.setattr(services, "votes_cast", database_down)  # the vote writer's batch
    await send(phone, {"type": "vote", "ref": f"s-{SECRET}", "poll": poll.id, "text": SECRET})
    assert (await receive_type(phone, "error"))["code"] == "unavailable"

    def crash(*args, **kwargs):
        raise RuntimeError(f"unexpected {SECRET}")

    monkeypatch.setattr(services, "votes_cast", crash)
    await send(phone, {"type": "vote", "ref": f"t-{SECRET}", "poll": poll.id, "text": SECRET})
    assert (await receive_type(phone, "error"))["code"] == "server_error"
    await database_sync_to_async(client.get)(f"/e/{SECRET[:6]}/")  # a mistyped join code

    output = log_output.getvalue()
    assert "OperationalError" in output and "RuntimeError" in output  # failures are still logged
    assert SECRET not in output and "answer" not in output
