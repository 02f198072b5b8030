"""Countdowns close polls on the server, with or without anyone connected, driven by a clock."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from polls import services
from polls.ballots import Ballot
from polls.errors import DomainError
from polls.live.hub import Hub
from polls.live.timers import GRACE_S, MAX_WAIT_S, PollCloser
from polls.models import Poll
from tests.factories import build_world, make_participant
from tests.live import open_socket, receive, receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def world():
    w = build_world()
    return w.moderator, w.event, w.poll


def state_of(poll_id: int) -> str:
    return Poll.objects.get(pk=poll_id).state


async def test_the_closer_sleeps_until_the_countdown_ends_then_closes_the_poll():
    moderator, event, poll = await database_sync_to_async(world)()
    await database_sync_to_async(services.poll_open)(event_id=event.id, poll_id=poll.id, user=moderator, duration=20)
    opened = await database_sync_to_async(Poll.objects.get)(pk=poll.id)
    clock = Clock()
    clock.now = opened.opened_at
    closer = PollCloser(clock=clock)

    assert await closer.tick() == pytest.approx(20 + GRACE_S)
    clock.advance(19.9)
    assert await closer.tick() == pytest.approx(0.1 + GRACE_S)
    assert await database_sync_to_async(state_of)(poll.id) == "open"
    clock.advance(0.1)
    assert await closer.tick() == MAX_WAIT_S  # nothing else counts down
    assert await database_sync_to_async(state_of)(poll.id) == "closed"
    assert closer.closed == 1
    assert await database_sync_to_async(event.audit_log.filter(action="timer_close", user=None).exists)()


async def test_with_no_countdown_the_closer_sleeps_its_longest():
    await database_sync_to_async(world)()
    assert await PollCloser(clock=Clock()).tick() == MAX_WAIT_S


def test_late_vote_is_refused_even_before_the_close_runs():
    moderator, event, poll = world()
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator, duration=30)
    Poll.objects.filter(pk=poll.id).update(closes_at=timezone.now() - timedelta(seconds=1))
    participant = make_participant(event)
    with pytest.raises(DomainError) as err:
        services.vote_cast(
            participant_id=participant.id,
            event_id=event.id,
            poll_id=poll.id,
            ref="late",
            ballot=Ballot(options=(poll.options.values_list("id", flat=True)[0],)),
        )
    assert err.value.code == "poll_closed"


def test_a_countdown_outlives_the_process_that_started_it():
    """Deadlines are rows: any process's closer, started later, closes what is overdue."""
    moderator, event, poll = world()
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator, duration=30)
    later = timezone.now() + timedelta(seconds=31)
    assert services.expire_due_polls(now=later) == 1
    assert state_of(poll.id) == "closed"
    assert services.expire_due_polls(now=later) == 0  # a second closer finds nothing to do


def test_a_manual_close_cancels_the_countdown():
    moderator, event, poll = world()
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator, duration=5)
    services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)  # reopened without a timer
    assert services.expire_due_polls(now=timezone.now() + timedelta(seconds=60)) == 0
    assert state_of(poll.id) == "open"


def test_a_retimed_poll_closes_at_its_new_deadline_only():
    moderator, event, poll = world()
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator, duration=5)
    services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator, duration=60)
    assert services.expire_due_polls(now=timezone.now() + timedelta(seconds=10)) == 0
    assert services.expire_due_polls(now=timezone.now() + timedelta(seconds=61)) == 1


async def test_the_hub_wakes_its_closer_when_a_countdown_starts_and_the_console_sees_the_close(ws):
    w = await database_sync_to_async(build_world)(moderator_session=True)
    console, _ = await open_socket(ws, w, "moderator")
    clock = Clock()
    Hub.current().closer.clock = clock
    await send(console, {"type": "open_poll", "ref": "t", "poll": w.poll.id, "duration": 2})
    assert (await receive_type(console, "error"))["code"] == "bad_request"  # below the 5 s minimum
    await send(console, {"type": "open_poll", "ref": "t5", "poll": w.poll.id, "duration": 5})
    ack = opened = None
    while ack is None or opened is None:  # the broadcast may overtake the ack
        frame = await receive(console)
        if frame["type"] == "ack":
            ack = frame
        elif frame["type"] == "state" and frame["poll"]["state"] == "open":
            opened = frame
    assert opened["poll"]["closes_at"] == ack["closes_at"]
    # The deadline is the server's opening time plus the duration, whatever the machine's speed.
    row = await database_sync_to_async(Poll.objects.get)(pk=w.poll.id)
    assert ack["closes_at"] == int((row.opened_at + timedelta(seconds=5)).timestamp() * 1000)
    # The countdown ends on the hub's clock (a second past the deadline); the closer is woken and
    # the state change that follows reaches the console.
    clock.now = row.opened_at
    clock.advance(6)
    Hub.current().closer.wake()
    closed = await receive_type(console, "state")
    while closed["poll"]["state"] != "closed":
        closed = await receive_type(console, "state")
    assert closed["poll"]["closes_at"] is None
