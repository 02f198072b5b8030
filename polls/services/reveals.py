"""What the moderator reveals step by step: teaching points, hidden case facts, the preferred answer."""

from __future__ import annotations

from django.db import transaction

from cases.models import CaseFact, TeachingPoint
from polls.errors import DomainError
from polls.models import CaseFactReveal, Event, PollState, StageScreen, TeachingPointReveal
from polls.services._common import (
    audit,
    lock_event,
    poll_locked,
    publish_results,
    publish_state,
    stage_pages_reset,
)


def _teaching_point_for_event(event: Event, teaching_point_id: int) -> TeachingPoint:
    point = TeachingPoint.objects.filter(pk=teaching_point_id, case__agenda_items__event=event).first()
    if point is None:
        raise DomainError("unknown_teaching_point")
    return point


@transaction.atomic
def teaching_point_reveal(*, event_id: int, teaching_point_id: int, user) -> TeachingPoint:
    """The teaching point belongs to a case on the agenda; it appears on every screen."""
    event = lock_event(event_id)
    point = _teaching_point_for_event(event, teaching_point_id)
    TeachingPointReveal.objects.get_or_create(event=event, teaching_point=point)
    # The point's case comes on screen with it (screens show the current case's points only).
    if event.current_case_id != point.case_id:
        event.current_case_id = point.case_id
        event.current_poll = None
    event.screen = StageScreen.TEACHING
    event.screen_point = point
    event.save(update_fields=["current_case", "current_poll", "screen", "screen_point", *stage_pages_reset(event)])
    audit(event, user, "reveal_teaching_point", f"teaching_point:{point.id}")
    publish_state(event)
    return point


@transaction.atomic
def teaching_point_hide(*, event_id: int, teaching_point_id: int, user) -> TeachingPoint:
    """The teaching point belongs to a case on the agenda; it is withdrawn from every screen."""
    event = lock_event(event_id)
    point = _teaching_point_for_event(event, teaching_point_id)
    TeachingPointReveal.objects.filter(event=event, teaching_point=point).delete()
    if event.screen_point_id == point.id:
        event.screen_point = None  # the teaching screen falls back to the last revealed point
        event.save(update_fields=["screen_point"])
    audit(event, user, "hide_teaching_point", f"teaching_point:{point.id}")
    publish_state(event)
    return point


def _fact_for_event(event: Event, fact_id: int) -> CaseFact:
    fact = CaseFact.objects.filter(pk=fact_id, case__agenda_items__event=event).first()
    if fact is None:
        raise DomainError("unknown_fact")
    return fact


@transaction.atomic
def fact_reveal(*, event_id: int, fact_id: int, user) -> CaseFact:
    """The fact belongs to a case on the agenda; it appears on every screen with its case."""
    event = lock_event(event_id)
    fact = _fact_for_event(event, fact_id)
    CaseFactReveal.objects.get_or_create(event=event, fact=fact)
    if event.current_case_id == fact.case_id and event.screen != StageScreen.CASE:
        event.screen = StageScreen.CASE  # a new finding is shown where the room can read it
        event.save(update_fields=["screen"])
    audit(event, user, "reveal_fact", f"fact:{fact.id}")
    publish_state(event)
    return fact


@transaction.atomic
def fact_hide(*, event_id: int, fact_id: int, user) -> CaseFact:
    """The fact belongs to a case on the agenda; a hidden fact is withdrawn again."""
    event = lock_event(event_id)
    fact = _fact_for_event(event, fact_id)
    CaseFactReveal.objects.filter(event=event, fact=fact).delete()
    audit(event, user, "hide_fact", f"fact:{fact.id}")
    publish_state(event)
    return fact


def _set_preferred_revealed(*, event_id: int, poll_id: int, user, revealed: bool):
    event = lock_event(event_id)
    poll = poll_locked(event, poll_id)
    if revealed and not poll.options.filter(is_preferred=True).exists():
        raise DomainError("invalid_transition", "This poll has no preferred answer to reveal.")
    if revealed and poll.state == PollState.DRAFT:
        raise DomainError("invalid_transition", "Open the poll before revealing its preferred answer.")
    poll.preferred_revealed = revealed
    poll.save(update_fields=["preferred_revealed"])
    audit(event, user, "reveal_preferred" if revealed else "hide_preferred", f"poll:{poll.id}")
    publish_state(event)
    publish_results(event_id, poll.id)
    return poll


@transaction.atomic
def preferred_reveal(*, event_id: int, poll_id: int, user):
    """The poll has been opened and marks preferred options; they are highlighted with the rationale."""
    return _set_preferred_revealed(event_id=event_id, poll_id=poll_id, user=user, revealed=True)


@transaction.atomic
def preferred_hide(*, event_id: int, poll_id: int, user):
    """The preferred answer is withdrawn from the audience's screens."""
    return _set_preferred_revealed(event_id=event_id, poll_id=poll_id, user=user, revealed=False)
