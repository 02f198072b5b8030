"""Reads: access checks, tallies and the live snapshot of an event."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from cases.models import Case, CaseFact, TeachingPoint
from polls import comparisons, protocol, tallies
from polls.errors import DomainError
from polls.models import (
    AgendaItem,
    CaseFactReveal,
    Event,
    Participant,
    Poll,
    TeachingPointReveal,
    Vote,
)


class EventNotFound(Exception):
    """Raised alike for a missing event and one the caller may not see."""


def normalise_code(code: str) -> str:
    return (code or "").strip().upper()


def event_by_code(*, code: str) -> Event:
    try:
        return Event.objects.get(code=normalise_code(code))
    except Event.DoesNotExist:
        raise EventNotFound from None


def user_moderates(*, user, event: Event) -> bool:
    """The event's own moderators, and staff trusted with every event (superusers, or the
    `moderate_all_events` permission). Plain staff who only author cases are not enough."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff and user.has_perm("polls.moderate_all_events"):
        return True
    return event.moderators.filter(pk=user.pk).exists()


def event_for_moderator(*, user, code: str) -> Event:
    event = event_by_code(code=code)
    if not user_moderates(user=user, event=event):
        raise EventNotFound
    return event


PRESENTER_SESSION_KEY = "caseboard_presenter_events"
PARTICIPANT_SESSION_KEY = "caseboard_participants"


def may_present(*, user, session, event: Event) -> bool:
    """Moderators, or a browser that opened the secret presenter link of this event."""
    granted = session.get(PRESENTER_SESSION_KEY, []) if session is not None else []
    return event.id in granted or user_moderates(user=user, event=event)


def participant_id_from_session(*, session, event_id: int) -> int | None:
    if session is None:
        return None
    value = session.get(PARTICIPANT_SESSION_KEY, {}).get(str(event_id))
    return value if isinstance(value, int) else None


def participant_for_session(*, session, event: Event) -> Participant | None:
    pid = participant_id_from_session(session=session, event_id=event.id)
    if pid is None:
        return None
    return Participant.objects.filter(pk=pid, event=event).first()


def poll_for_event(*, event_id: int, poll_id: int) -> Poll:
    poll = Poll.objects.filter(pk=poll_id, event_id=event_id).first()
    if poll is None:
        raise DomainError("unknown_poll")
    return poll


def next_poll_deadline() -> datetime | None:
    """The earliest countdown of any open poll (the poll closers sleep until it)."""
    return (
        Poll.objects.filter(state="open", closes_at__isnull=False)
        .order_by("closes_at")
        .values_list("closes_at", flat=True)
        .first()
    )


def poll_tally(*, poll_id: int) -> tuple[int, dict[int, int]]:
    """Total ballots and per-option counts, read from the vote rows (the source of truth)."""
    poll = Poll.objects.get(pk=poll_id)
    total = tallies.audience_votes(poll).count()
    counts = tallies.choice_counts(poll, list(poll.options.values_list("id", flat=True)))
    return total, counts


def results_frames(*, poll: Poll, version: int | None = None) -> dict[str, dict[str, Any]]:
    """The results frame per audience: counts and statistics for the public only once revealed.

    The moderator always sees everything, including every profile split; the public sees the
    panel, rounds and (if the moderator chose one) one profile split, once results are revealed.
    Every split is small-cell suppressed for both.
    """
    # Taken before the reads (callers may take it before reading the poll): a later frame never holds less.
    version = version or time.time_ns() // 1000
    event = poll.event
    result = tallies.tally(poll)
    shared = {
        **comparisons.panel_and_concordance(poll, result.total),
        **comparisons.rounds_detail(poll),
    }
    k = event.min_cell_size
    moderator = {
        **result.moderator,
        **shared,
        "segments": comparisons.segments_by_attribute(poll, event.profile_fields, k=k),
    }
    public = None
    if poll.results_visible:
        public = {**result.public, **shared}
        if not poll.preferred_revealed and "concordance" in public:
            # Agreement with the preferred answer would give the answer away before its reveal.
            concordance = {k: v for k, v in public["concordance"].items() if k != "preferred"}
            public.pop("concordance")
            if concordance:
                public["concordance"] = concordance
        if event.presenter_segment:
            public["segments"] = comparisons.segments_by_attribute(poll, [event.presenter_segment], k=k)
    return {
        "public": protocol.results_payload(poll_id=poll.id, total=result.total, version=version, detail=public),
        "moderator": protocol.results_payload(poll_id=poll.id, total=result.total, version=version, detail=moderator),
    }


def _case_queryset():
    return Case.objects.prefetch_related("staging", "history", "therapy_lines", "facts")


def revealed_fact_ids(*, event_id: int) -> set[int]:
    return set(CaseFactReveal.objects.filter(event_id=event_id).values_list("fact_id", flat=True))


def _poll_queryset():
    return Poll.objects.select_related("event").prefetch_related("options")


def event_state(*, event_id: int) -> dict[str, dict[str, Any]]:
    """The `state` frame per audience ("public" for phones and presenter, "moderator")."""
    event = Event.objects.select_related("current_poll").get(pk=event_id)
    case = _case_queryset().filter(pk=event.current_case_id).first() if event.current_case_id else None
    poll = _poll_queryset().filter(pk=event.current_poll_id).first() if event.current_poll_id else None
    points = (
        TeachingPoint.objects.filter(
            pk__in=TeachingPointReveal.objects.filter(event_id=event_id).values("teaching_point")
        )
        .prefetch_related("references")
        .order_by("case_id", "position", "id")
    )
    point_payloads = [protocol.teaching_point_payload(p) for p in points]
    results = results_frames(poll=poll) if poll is not None and poll.state != "draft" else None
    facts = revealed_fact_ids(event_id=event_id) if case else set()
    base = {
        "type": "state",
        "version": event.state_version,
        "event": protocol.event_payload(event),
        "teaching_points": point_payloads,
    }
    public = {
        **base,
        "case": protocol.case_payload(case, revealed_facts=facts) if case else None,
        "poll": protocol.poll_payload(poll) if poll else None,
        "results": results["public"] if results else None,
    }
    moderator = {
        **base,
        "case": protocol.case_payload(case, revealed_facts=facts, moderator=True) if case else None,
        "poll": protocol.poll_payload(poll, moderator=True) if poll else None,
        "results": results["moderator"] if results else None,
        "agenda": agenda(event_id=event_id),
    }
    return {"public": public, "moderator": moderator}


def agenda(*, event_id: int) -> list[dict[str, Any]]:
    """Every case of the event with its polls and teaching points, for the moderator console."""
    items = AgendaItem.objects.filter(event_id=event_id).select_related("case")
    polls = _poll_queryset().filter(event_id=event_id)
    by_case: dict[int, list[Poll]] = {}
    for poll in polls:
        by_case.setdefault(poll.case_id, []).append(poll)
    case_ids = [i.case_id for i in items]
    points = TeachingPoint.objects.filter(case_id__in=case_ids).prefetch_related(Prefetch("references"))
    points_by_case: dict[int, list[TeachingPoint]] = {}
    for point in points:
        points_by_case.setdefault(point.case_id, []).append(point)
    revealed = set(TeachingPointReveal.objects.filter(event_id=event_id).values_list("teaching_point_id", flat=True))
    facts = revealed_fact_ids(event_id=event_id)
    hidden_facts: dict[int, list[dict[str, Any]]] = {}
    for fact in CaseFact.objects.filter(case_id__in=case_ids, hidden_until_revealed=True):
        hidden_facts.setdefault(fact.case_id, []).append(
            {"id": fact.id, "label": fact.label, "revealed": fact.id in facts}
        )
    return [
        {
            "id": item.case.id,
            "title": item.case.title,
            "facts": hidden_facts.get(item.case_id, []),
            "polls": [protocol.poll_payload(p, moderator=True) for p in by_case.get(item.case_id, [])],
            "teaching_points": [
                {"id": p.id, "title": p.title, "revealed": p.id in revealed}
                for p in points_by_case.get(item.case_id, [])
            ],
        }
        for item in items
    ]


def participant_ballots(*, participant_id: int) -> dict[int, dict[str, Any]]:
    """A participant's recorded ballots per poll, shaped as in acks and `my_vote` (one query)."""
    ballots: dict[int, dict[str, Any]] = {}
    ranks: dict[int, list[tuple[int, int]]] = {}
    rows = Vote.objects.filter(participant_id=participant_id).values_list(
        "poll_id", "value_number", "value_text", "confidence", "choices__option_id", "choices__rank"
    )
    for poll_id, value, text, confidence, option_id, rank in rows:
        ballot = ballots.get(poll_id)
        if ballot is None:
            ballot = ballots[poll_id] = {"options": []}
            if value is not None:
                ballot["value"] = value
            if text:
                ballot["text"] = text
            if confidence is not None:
                ballot["confidence"] = confidence
        if option_id is not None:
            ranks.setdefault(poll_id, []).append((rank or 0, option_id))
    for poll_id, chosen in ranks.items():
        ballots[poll_id]["options"] = [option_id for _, option_id in sorted(chosen)]
    return ballots


_EVENT_IDS: dict[str, tuple[float, int]] = {}
EVENT_ID_CACHE_S = 10.0


def event_id_by_code(*, code: str, fresh: bool = False) -> int:
    """The event id for a join code, remembered briefly per process: a join burst of thousands
    of phones then costs no event lookup each."""
    key = normalise_code(code)
    cached = _EVENT_IDS.get(key)
    now = time.monotonic()
    if cached and not fresh and now - cached[0] < EVENT_ID_CACHE_S:
        return cached[1]
    event_id = Event.objects.filter(code=key).values_list("id", flat=True).first()
    if event_id is None:
        raise EventNotFound
    if len(_EVENT_IDS) > 10_000:
        _EVENT_IDS.clear()
    _EVENT_IDS[key] = (now, event_id)
    return event_id
