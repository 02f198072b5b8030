"""Countdowns close polls on the server, with or without anyone connected."""

import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from polls import services
from polls.ballots import Ballot
from polls.errors import DomainError
from polls.models import Poll
from tests.factories import make_case, make_event, make_moderator, make_participant, make_poll, option_ids, user_session
from tests.live import receive, receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)


def world():
    moderator = make_moderator()
    case = make_case()
    event = make_event(moderators=[moderator], cases=[case])
    return moderator, event, make_poll(event, case)


def wait_for_state(poll_id: int, state: str, seconds: float = 8) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        current = Poll.objects.get(pk=poll_id).state
        if current == state:
            return current
        time.sleep(0.1)
    return Poll.objects.get(pk=poll_id).state


def test_timer_closes_the_poll_with_no_client_connected():
    moderator, event, poll = world()
    # The shortest countdown the protocol allows is 5 s; the service takes any duration.
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator, duration=1)
    assert Poll.objects.get(pk=poll.id).state == "open"
    assert wait_for_state(poll.id, "closed") == "closed"
    assert event.audit_log.filter(action="timer_close", user=None).exists()


@pytest.fixture
def no_timer_threads(monkeypatch):
    monkeypatch.setattr("polls.timers.schedule", lambda **kw: None)


def a_moment_ago():
    return timezone.now() - timedelta(seconds=1)


def test_late_vote_is_refused_even_before_the_close_runs(no_timer_threads):
    moderator, event, poll = world()
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator, duration=30)
    Poll.objects.filter(pk=poll.id).update(closes_at=a_moment_ago())  # the countdown ran out a moment ago
    participant = make_participant(event)
    with pytest.raises(DomainError) as err:
        services.vote_cast(
            participant_id=participant.id,
            event_id=event.id,
            poll_id=poll.id,
            ref="late",
            ballot=Ballot(options=(option_ids(poll)[0],)),
        )
    assert err.value.code == "poll_closed"


def test_sweep_closes_overdue_polls_after_a_restart(no_timer_threads):
    moderator, event, poll = world()
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator, duration=30)
    Poll.objects.filter(pk=poll.id).update(closes_at=a_moment_ago())  # a timer lost with its process
    assert services.expire_due_polls() == 1
    assert Poll.objects.get(pk=poll.id).state == "closed"
    assert services.expire_due_polls() == 0


def test_manual_close_cancels_the_countdown():
    moderator, event, poll = world()
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator, duration=1)
    services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)  # reopened without a timer
    time.sleep(1.5)
    assert Poll.objects.get(pk=poll.id).state == "open"


async def test_countdown_is_announced_and_the_close_reaches_the_console(ws):
    moderator, event, poll = await database_sync_to_async(world)()
    key = await database_sync_to_async(user_session)(moderator)
    console, ok, _ = await ws(f"/ws/e/{event.code}/moderate/", session_key=key)
    assert ok
    await receive_type(console, "state")
    await send(console, {"type": "open_poll", "ref": "t", "poll": poll.id, "duration": 2})
    assert (await receive_type(console, "error"))["code"] == "bad_request"  # below the 5 s minimum
    await send(console, {"type": "open_poll", "ref": "t5", "poll": poll.id, "duration": 5})
    ack = opened = None
    while ack is None or opened is None:  # the broadcast may overtake the ack
        frame = await receive(console)
        if frame["type"] == "ack":
            ack = frame
        elif frame["type"] == "state" and frame["poll"]["state"] == "open":
            opened = frame
    assert opened["poll"]["closes_at"] == ack["closes_at"] and ack["closes_at"] > time.time() * 1000
    closed = await receive_type(console, "state", timeout=10)
    while closed["poll"]["state"] != "closed":
        closed = await receive_type(console, "state", timeout=10)
    assert closed["poll"]["closes_at"] is None
