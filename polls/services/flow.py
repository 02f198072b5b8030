"""The run of an event: its status, the case and poll on screen, results and teaching points."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from cases.identifiers import KINDS
from polls import selectors
from polls.errors import DomainError
from polls.models import AgendaItem, Event, EventStatus, Poll, PollState, StageScreen
from polls.services._common import (
    audit,
    lock_event,
    poll_locked,
    publish_results,
    publish_state,
    stage_pages_reset,
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


def _transition_poll(poll: Poll, target: str) -> None:
    if target not in POLL_TRANSITIONS[poll.state]:
        raise DomainError("invalid_transition", f"A {poll.state} poll cannot become {target}.")
    poll.state = target


def _transition_event(event: Event, target: str) -> None:
    if target not in EVENT_TRANSITIONS[event.status]:
        raise DomainError("invalid_transition", f"A {event.status} event cannot become {target}.")
    if target == EventStatus.LIVE:
        _refuse_unacknowledged_identifiers(event)
    event.status = target


def _refuse_unacknowledged_identifiers(event: Event) -> None:
    """No event goes live while the identifier guard flags a passage nobody acknowledged (issue 16).

    Checked again here, not only when the text was saved: text written before the guard existed,
    or loaded by other means than the authoring forms, is read once more before a room sees it.
    The message names where and what kind, never the text."""
    findings = selectors.event_unacknowledged_identifiers(event.id)
    if not findings:
        return
    places = "; ".join(f"{case.title} – {where} ({KINDS[kind]})" for case, where, kind, _ in findings[:5])
    more = f" and {len(findings) - 5} more" if len(findings) > 5 else ""
    raise DomainError(
        "unacknowledged_identifiers",
        f"{len(findings)} passage(s) may identify a patient: {places}{more}. Remove them, or acknowledge "
        "each on its case's page (“I have checked the flagged text”), then start again.",
        # Which cases, so that the console can link to each one's page (ids and titles: no text).
        cases=[{"id": case.id, "title": case.title} for case in dict.fromkeys(case for case, *_ in findings)],
    )


# -------------------------------------------------------------- event flow


@transaction.atomic
def event_start(*, event_id: int, user) -> Event:
    """The event is draft or ended; it becomes live."""
    event = lock_event(event_id)
    _transition_event(event, EventStatus.LIVE)
    event.started_at = event.started_at or timezone.now()
    event.save(update_fields=["status", "started_at"])
    audit(event, user, "start_event")
    publish_state(event)
    return event


@transaction.atomic
def event_end(*, event_id: int, user) -> Event:
    """The event is live; it ends and any open poll closes."""
    event = lock_event(event_id)
    _transition_event(event, EventStatus.ENDED)
    event.ended_at = timezone.now()
    event.save(update_fields=["status", "ended_at"])
    Poll.objects.filter(event=event, state=PollState.OPEN).update(state=PollState.CLOSED, closed_at=event.ended_at)
    audit(event, user, "end_event")
    publish_state(event)
    return event


@transaction.atomic
def case_show(*, event_id: int, case_id: int, user) -> Event:
    """The case is on the event's agenda; it becomes the case on every screen."""
    event = lock_event(event_id)
    if not AgendaItem.objects.filter(event=event, case_id=case_id).exists():
        raise DomainError("unknown_case")
    event.current_case_id = case_id
    if event.current_poll_id and not Poll.objects.filter(pk=event.current_poll_id, case_id=case_id).exists():
        event.current_poll = None
    event.screen = StageScreen.CASE
    event.save(update_fields=["current_case", "current_poll", "screen", *stage_pages_reset(event)])
    audit(event, user, "show_case", f"case:{case_id}")
    publish_state(event)
    return event


# --------------------------------------------------------------- poll flow


@transaction.atomic
def poll_open(*, event_id: int, poll_id: int, user, duration: int | None = None) -> Poll:
    """The poll is draft or closed and the event has not ended; it opens (for `duration` seconds) on screen."""
    event = lock_event(event_id)
    if event.status == EventStatus.ENDED:
        raise DomainError("event_ended")
    poll = poll_locked(event, poll_id)
    _transition_poll(poll, PollState.OPEN)
    poll.opened_at = timezone.now()
    poll.closed_at = None
    poll.closes_at = poll.opened_at + timedelta(seconds=duration) if duration else None
    poll.save(update_fields=["state", "opened_at", "closed_at", "closes_at"])
    # No timer is set here: the serving processes' poll closers (polls/live/timers.py) hear of
    # the new deadline from this state change, and late ballots are refused by `closes_at` alone.
    # Opening a poll on a draft event starts it: the console should not need two clicks.
    if event.status == EventStatus.DRAFT:
        _transition_event(event, EventStatus.LIVE)
        event.started_at = timezone.now()
    event.current_poll = poll
    event.current_case_id = poll.case_id
    event.screen = StageScreen.POLL
    event.save(
        update_fields=["status", "started_at", "current_poll", "current_case", "screen", *stage_pages_reset(event)]
    )
    audit(event, user, "open_poll", f"poll:{poll.id}")
    publish_state(event)
    return poll


@transaction.atomic
def poll_close(*, event_id: int, poll_id: int, user) -> Poll:
    """The poll is open; it closes and later ballots are refused with poll_closed."""
    event = lock_event(event_id)
    poll = poll_locked(event, poll_id)
    _transition_poll(poll, PollState.CLOSED)
    poll.closed_at = timezone.now()
    poll.closes_at = None
    poll.save(update_fields=["state", "closed_at", "closes_at"])
    audit(event, user, "close_poll", f"poll:{poll.id}")
    publish_state(event)
    return poll


@transaction.atomic
def poll_expire(*, event_id: int, poll_id: int, now: datetime | None = None) -> bool:
    """The poll's countdown has run out by `now`; it closes (no-op if already closed or re-timed)."""
    now = now or timezone.now()
    event = lock_event(event_id)
    poll = poll_locked(event, poll_id)
    if poll.state != PollState.OPEN or poll.closes_at is None or poll.closes_at > now:
        transaction.set_rollback(True)  # nothing changed: keep the state version as it was
        return False
    poll.state = PollState.CLOSED
    poll.closed_at = poll.closes_at
    poll.closes_at = None
    poll.save(update_fields=["state", "closed_at", "closes_at"])
    audit(event, None, "timer_close", f"poll:{poll.id}")
    publish_state(event)
    return True


def expire_due_polls(*, now: datetime | None = None) -> int:
    """Close every open poll whose countdown has run out by `now`; returns how many closed."""
    now = now or timezone.now()
    due = Poll.objects.filter(state=PollState.OPEN, closes_at__lte=now).values_list("event_id", "id")
    return sum(poll_expire(event_id=event_id, poll_id=poll_id, now=now) for event_id, poll_id in list(due))


def _set_results_visible(*, event_id: int, poll_id: int, user, visible: bool) -> Poll:
    event = lock_event(event_id)
    poll = poll_locked(event, poll_id)
    if poll.state == PollState.DRAFT:
        raise DomainError("invalid_transition", "A poll that was never opened has no results.")
    poll.results_visible = visible
    poll.save(update_fields=["results_visible"])
    if visible:
        # Revealing puts the results on the projector: they are what the room waits for.
        event.current_poll = poll
        event.current_case_id = poll.case_id
        event.screen = StageScreen.POLL
        event.save(update_fields=["current_poll", "current_case", "screen", *stage_pages_reset(event)])
    audit(event, user, "reveal_results" if visible else "hide_results", f"poll:{poll.id}")
    publish_state(event)
    # A results frame read before this commit may carry the old visibility; one read after supersedes it.
    publish_results(event.id, poll.id)
    return poll


@transaction.atomic
def results_reveal(*, event_id: int, poll_id: int, user) -> Poll:
    """The poll has been opened; its counts become visible to the audience and the presenter."""
    return _set_results_visible(event_id=event_id, poll_id=poll_id, user=user, visible=True)


@transaction.atomic
def results_hide(*, event_id: int, poll_id: int, user) -> Poll:
    """The poll has been opened; its counts are withheld from the audience again."""
    return _set_results_visible(event_id=event_id, poll_id=poll_id, user=user, visible=False)
