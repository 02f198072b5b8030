"""Reads of cases: which cases a user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cases.models import Case

# Staff with this permission moderate every event, and so see every case. Named as a string:
# cases know nothing of the events app (the permission belongs to it).
MODERATE_ALL_EVENTS = "polls.moderate_all_events"


def cases_visible_to(*, user) -> QuerySet[Case]:
    """The cases the user wrote, and those on the agenda of an event the user moderates."""
    if not user or not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    if user.is_staff and user.has_perm(MODERATE_ALL_EVENTS):
        return Case.objects.all()
    # `events` is the reverse side of the events app's agenda: a name, not an import.
    return Case.objects.filter(Q(created_by=user) | Q(events__moderators=user)).distinct()


def may_edit_case(*, user, case: Case) -> bool:
    """The author, or whoever moderates every event the case is on (a case shared with another
    moderator's event is that moderator's content too)."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff and user.has_perm(MODERATE_ALL_EVENTS):
        return True
    if case.created_by_id == user.pk:
        return True
    events = case.events.all()
    return events.exists() and not events.exclude(moderators=user).exists()
