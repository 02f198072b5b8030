"""Writes: every state change of an event, each atomic and broadcast after commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from cases.models import TeachingPoint
from polls import fanout
from polls.broadcast import broadcast_on_commit
from polls.errors import DomainError
from polls.groups import event_group
from polls.models import (
    AgendaItem,
    Event,
    EventStatus,
    ModeratorAction,
    Participant,
    Poll,
    PollKind,
    PollState,
    TeachingPointReveal,
    Vote,
    VoteChoice,
    VoteReceipt,
)

logger = logging.getLogger(__name__)

# The poll state machine: the only transitions any interface may make.
POLL_TRANSITIONS: dict[str, set[str]] = {
    PollState.DRAFT: {PollState.OPEN},
    PollState.OPEN: {PollState.CLOSED},
    PollState.CLOSED: {PollState.OPEN},
}
EVENT_TRANSITIONS: dict[str, set[str]] = {
    EventStatus.DRAFT: {EventStatus.LIVE},
    EventStatus.LIVE: {EventStatus.ENDED},
    EventStatus.ENDED: {EventStatus.LIVE},
}


# ------------------------------------------------------------------ helpers


def _lock_event(event_id: int) -> Event:
    """Serialise state changes of one event; every change bumps its state version."""
    event = Event.objects.select_for_update().get(pk=event_id)
    Event.objects.filter(pk=event_id).update(state_version=F("state_version") + 1)
    event.refresh_from_db(fields=["state_version"])
    return event


def _audit(event: Event, user, action: str, target: str = "") -> None:
    ModeratorAction.objects.create(
        event=event, user=user if user and user.is_authenticated else None, action=action, target=target
    )


def _publish_state(event: Event) -> None:
    """Build the new state once, inside the transaction, and send it after commit."""
    broadcast_on_commit(event_group(event.id), fanout.build_state_message(event.id))


def _poll_locked(event: Event, poll_id: int) -> Poll:
    poll = Poll.objects.select_for_update().filter(pk=poll_id, event_id=event.id).first()
    if poll is None:
        raise DomainError("unknown_poll")
    return poll


def _transition_poll(poll: Poll, target: str) -> None:
    if target not in POLL_TRANSITIONS[poll.state]:
        raise DomainError("invalid_transition", f"A {poll.state} poll cannot become {target}.")
    poll.state = target


def _transition_event(event: Event, target: str) -> None:
    if target not in EVENT_TRANSITIONS[event.status]:
        raise DomainError("invalid_transition", f"A {event.status} event cannot become {target}.")
    event.status = target


# -------------------------------------------------------------- event flow


@transaction.atomic
def event_start(*, event_id: int, user) -> Event:
    """The event is draft or ended; it becomes live."""
    event = _lock_event(event_id)
    _transition_event(event, EventStatus.LIVE)
    event.started_at = event.started_at or timezone.now()
    event.save(update_fields=["status", "started_at"])
    _audit(event, user, "start_event")
    _publish_state(event)
    return event


@transaction.atomic
def event_end(*, event_id: int, user) -> Event:
    """The event is live; it ends and any open poll closes."""
    event = _lock_event(event_id)
    _transition_event(event, EventStatus.ENDED)
    event.ended_at = timezone.now()
    event.save(update_fields=["status", "ended_at"])
    Poll.objects.filter(event=event, state=PollState.OPEN).update(state=PollState.CLOSED, closed_at=event.ended_at)
    _audit(event, user, "end_event")
    _publish_state(event)
    return event


@transaction.atomic
def case_show(*, event_id: int, case_id: int, user) -> Event:
    """The case is on the event's agenda; it becomes the case on every screen."""
    event = _lock_event(event_id)
    if not AgendaItem.objects.filter(event=event, case_id=case_id).exists():
        raise DomainError("unknown_case")
    event.current_case_id = case_id
    if event.current_poll_id and not Poll.objects.filter(pk=event.current_poll_id, case_id=case_id).exists():
        event.current_poll = None
    event.save(update_fields=["current_case", "current_poll"])
    _audit(event, user, "show_case", f"case:{case_id}")
    _publish_state(event)
    return event


# --------------------------------------------------------------- poll flow


@transaction.atomic
def poll_open(*, event_id: int, poll_id: int, user) -> Poll:
    """The poll is draft or closed and the event has not ended; it opens and goes on screen."""
    event = _lock_event(event_id)
    if event.status == EventStatus.ENDED:
        raise DomainError("event_ended")
    poll = _poll_locked(event, poll_id)
    _transition_poll(poll, PollState.OPEN)
    poll.opened_at = timezone.now()
    poll.closed_at = None
    poll.save(update_fields=["state", "opened_at", "closed_at"])
    # Opening a poll on a draft event starts it: the console should not need two clicks.
    if event.status == EventStatus.DRAFT:
        _transition_event(event, EventStatus.LIVE)
        event.started_at = timezone.now()
    event.current_poll = poll
    event.current_case_id = poll.case_id
    event.save(update_fields=["status", "started_at", "current_poll", "current_case"])
    _audit(event, user, "open_poll", f"poll:{poll.id}")
    _publish_state(event)
    return poll


@transaction.atomic
def poll_close(*, event_id: int, poll_id: int, user) -> Poll:
    """The poll is open; it closes and later ballots are refused with poll_closed."""
    event = _lock_event(event_id)
    poll = _poll_locked(event, poll_id)
    _transition_poll(poll, PollState.CLOSED)
    poll.closed_at = timezone.now()
    poll.save(update_fields=["state", "closed_at"])
    _audit(event, user, "close_poll", f"poll:{poll.id}")
    _publish_state(event)
    return poll


def _set_results_visible(*, event_id: int, poll_id: int, user, visible: bool) -> Poll:
    event = _lock_event(event_id)
    poll = _poll_locked(event, poll_id)
    if poll.state == PollState.DRAFT:
        raise DomainError("invalid_transition", "A poll that was never opened has no results.")
    poll.results_visible = visible
    poll.save(update_fields=["results_visible"])
    if visible and event.current_poll_id != poll.id:
        event.current_poll = poll
        event.current_case_id = poll.case_id
        event.save(update_fields=["current_poll", "current_case"])
    _audit(event, user, "reveal_results" if visible else "hide_results", f"poll:{poll.id}")
    _publish_state(event)
    return poll


@transaction.atomic
def results_reveal(*, event_id: int, poll_id: int, user) -> Poll:
    """The poll has been opened; its counts become visible to the audience and the presenter."""
    return _set_results_visible(event_id=event_id, poll_id=poll_id, user=user, visible=True)


@transaction.atomic
def results_hide(*, event_id: int, poll_id: int, user) -> Poll:
    """The poll has been opened; its counts are withheld from the audience again."""
    return _set_results_visible(event_id=event_id, poll_id=poll_id, user=user, visible=False)


def _teaching_point_for_event(event: Event, teaching_point_id: int) -> TeachingPoint:
    point = TeachingPoint.objects.filter(pk=teaching_point_id, case__agenda_items__event=event).first()
    if point is None:
        raise DomainError("unknown_teaching_point")
    return point


@transaction.atomic
def teaching_point_reveal(*, event_id: int, teaching_point_id: int, user) -> TeachingPoint:
    """The teaching point belongs to a case on the agenda; it appears on every screen."""
    event = _lock_event(event_id)
    point = _teaching_point_for_event(event, teaching_point_id)
    TeachingPointReveal.objects.get_or_create(event=event, teaching_point=point)
    _audit(event, user, "reveal_teaching_point", f"teaching_point:{point.id}")
    _publish_state(event)
    return point


@transaction.atomic
def teaching_point_hide(*, event_id: int, teaching_point_id: int, user) -> TeachingPoint:
    """The teaching point belongs to a case on the agenda; it is withdrawn from every screen."""
    event = _lock_event(event_id)
    point = _teaching_point_for_event(event, teaching_point_id)
    TeachingPointReveal.objects.filter(event=event, teaching_point=point).delete()
    _audit(event, user, "hide_teaching_point", f"teaching_point:{point.id}")
    _publish_state(event)
    return point


# ------------------------------------------------------------ participants


def participant_join(*, event: Event) -> Participant:
    """The event exists and has not ended; a new anonymous participant is created."""
    if event.status == EventStatus.ENDED:
        raise DomainError("event_ended")
    return Participant.objects.create(event=event)


@dataclass(frozen=True)
class VoteOutcome:
    poll_id: int
    option_ids: tuple[int, ...]
    changed: bool


def _poll_for_vote(*, event_id: int, poll_id: int) -> Poll:
    """Read the poll under a shared lock, so a concurrent close waits for ballots in flight."""
    if connection.vendor == "postgresql":
        poll = Poll.objects.raw(
            "SELECT * FROM polls_poll WHERE id = %s AND event_id = %s FOR SHARE", [poll_id, event_id]
        )
        poll = next(iter(poll), None)
    else:
        # SQLite runs IMMEDIATE transactions: writers are already serialised.
        poll = Poll.objects.filter(pk=poll_id, event_id=event_id).first()
    if poll is None:
        raise DomainError("unknown_poll")
    return poll


def vote_cast(
    *, participant_id: int, event_id: int, poll_id: int, option_ids: tuple[int, ...], ref: str
) -> VoteOutcome:
    """The participant belongs to the event and the poll is open; records or changes the ballot.

    Idempotent by `ref`: the same ref with the same ballot returns the first outcome; the
    same ref with a different ballot is refused with idempotency_conflict.
    """
    for attempt in range(3):
        try:
            return _vote_cast_once(
                participant_id=participant_id, event_id=event_id, poll_id=poll_id, option_ids=option_ids, ref=ref
            )
        except IntegrityError:
            # Two tabs of one participant raced on the same poll or ref: re-read and decide again.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _vote_cast_once(
    *, participant_id: int, event_id: int, poll_id: int, option_ids: tuple[int, ...], ref: str
) -> VoteOutcome:
    ballot = list(option_ids)
    receipt = VoteReceipt.objects.filter(participant_id=participant_id, ref=ref).first()
    if receipt is not None:
        if receipt.poll_id == poll_id and receipt.option_ids == ballot:
            return VoteOutcome(poll_id=poll_id, option_ids=option_ids, changed=False)
        raise DomainError("idempotency_conflict")

    poll = _poll_for_vote(event_id=event_id, poll_id=poll_id)
    if poll.state == PollState.DRAFT:
        raise DomainError("poll_not_open")
    if poll.state == PollState.CLOSED:
        raise DomainError("poll_closed")
    valid = set(poll.options.values_list("id", flat=True))
    if not set(ballot) <= valid:
        raise DomainError("invalid_option")
    if poll.kind == PollKind.SINGLE and len(ballot) != 1:
        raise DomainError("too_many_options", "Choose exactly one option.")

    # A racing insert by another tab raises IntegrityError; vote_cast retries the whole ballot.
    vote = Vote.objects.filter(poll_id=poll_id, participant_id=participant_id).first()
    if vote is None:
        vote = Vote.objects.create(poll_id=poll_id, participant_id=participant_id)
        previous = []
    else:
        previous = list(vote.choices.order_by("id").values_list("option_id", flat=True))
    changed = sorted(previous) != sorted(ballot)
    if changed:
        if previous:
            vote.choices.all().delete()
            vote.save(update_fields=["updated_at"])
        VoteChoice.objects.bulk_create([VoteChoice(vote=vote, option_id=oid, poll_id=poll_id) for oid in ballot])
    VoteReceipt.objects.create(participant_id=participant_id, poll_id=poll_id, ref=ref, option_ids=ballot)
    if changed:
        transaction.on_commit(lambda: fanout.results_changed(event_id=event_id, poll_id=poll_id))
    return VoteOutcome(poll_id=poll_id, option_ids=option_ids, changed=changed)
