"""Reads of cases: which cases a user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cases.identifiers import findings_in
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


def case_texts(case: Case) -> list[tuple[str, str]]:
    """(where, text) for every text of a case that reaches a screen: what the identifier guard reads.

    References are left out: a citation names its authors, who are not patients."""
    texts = [
        ("Title", case.title),
        ("Disease", case.disease),
        ("Diagnosis", case.diagnosis),
        ("Current status", case.current_status),
        ("Clinical question", case.clinical_question),
    ]
    texts += [(f"Staging {item.position}", f"{item.system} {item.value}") for item in case.staging.all()]
    texts += [(f"History item {item.position}", item.text) for item in case.history.all()]
    for line in case.therapy_lines.all():
        for field in ("regimen", "agents", "transplant", "best_response", "outcome"):
            texts.append((f"Therapy line {line.line_number}: {field.replace('_', ' ')}", getattr(line, field)))
    for fact in case.facts.all():
        texts += [(f"Case fact {fact.position}: label", fact.label), (f"Case fact {fact.position}: text", fact.text)]
    for point in case.teaching_points.all():
        texts += [
            (f"Teaching point {point.position}: title", point.title),
            (f"Teaching point {point.position}: text", point.text),
        ]
    return [(where, text) for where, text in texts if text]


def unacknowledged_identifiers(*, case: Case, more: list[tuple[str, str]] = ()) -> list[tuple[str, str, str]]:
    """(where, kind, fingerprint) of each finding in the case's texts (and `more` of the same case,
    e.g. its polls') that nobody has acknowledged. The text itself is never returned."""
    acknowledged = set(case.identifier_acknowledgements.values_list("fingerprint", flat=True))
    return [
        (where, finding.kind, print_)
        for where, finding, print_ in findings_in([*case_texts(case), *more])
        if print_ not in acknowledged
    ]
