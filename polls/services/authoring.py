"""Writes of authoring that keep an event consistent with what its polls ask about."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max, Min

from cases.models import Case
from polls.errors import DomainError
from polls.models import AgendaItem, Option, Poll, PollKind, PollPurpose
from polls.services._common import audit, lock_event, publish_state


@transaction.atomic
def agenda_complete(*, event_id: int, user) -> list[Case]:
    """Every case the event's polls ask about is on its agenda; those missing are added at its end.

    The console lists the agenda, so a poll saved for a case that is not on it was accepted and
    then never seen again (issue 16). Added in the order of their first poll; returns them.
    """
    event = lock_event(event_id)
    on_agenda = AgendaItem.objects.filter(event=event).values("case_id")
    missing = list(
        Poll.objects.filter(event=event)
        .exclude(case_id__in=on_agenda)
        .values("case_id")
        .annotate(first=Min("position"))
        .order_by("first", "case_id")
        .values_list("case_id", flat=True)
    )
    if not missing:
        return []
    last = AgendaItem.objects.filter(event=event).aggregate(last=Max("position"))["last"] or 0
    AgendaItem.objects.bulk_create(
        AgendaItem(event=event, case_id=case_id, position=last + n) for n, case_id in enumerate(missing, start=1)
    )
    audit(event, user, "agenda_complete", ",".join(f"case:{case_id}" for case_id in missing))
    publish_state(event)
    cases = Case.objects.in_bulk(missing)
    return [cases[case_id] for case_id in missing]


AGREEMENT = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]

# The evaluation an accredited activity asks at its end (objectives, relevance, balance and freedom
# from commercial bias, satisfaction), then intent to change (Moore levels 2 and 4).
STANDARD_POLLS: list[dict] = [
    {"purpose": PollPurpose.EVALUATION, "kind": PollKind.LIKERT, "options": AGREEMENT,
     "question": "The activity met its stated learning objectives."},
    {"purpose": PollPurpose.EVALUATION, "kind": PollKind.LIKERT, "options": AGREEMENT,
     "question": "The content was relevant to my practice."},
    {"purpose": PollPurpose.EVALUATION, "kind": PollKind.LIKERT, "options": AGREEMENT,
     "question": "The content was balanced and free of commercial bias."},
    {"purpose": PollPurpose.EVALUATION, "kind": PollKind.LIKERT,
     "options": ["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"],
     "question": "Overall, how satisfied are you with this activity?"},
    {"purpose": PollPurpose.INTENT, "kind": PollKind.SINGLE,
     "options": ["Yes", "No: my practice already reflects it", "No: for another reason", "Not sure yet"],
     "question": "Will you change your practice as a result of this activity?"},
    {"purpose": PollPurpose.INTENT, "kind": PollKind.TEXT, "options": [],
     "question": "If so, what will you change?"},
]  # fmt: skip


@transaction.atomic
def standard_polls_add(*, event_id: int, user) -> list[Poll]:
    """The event has a case on its agenda; the standard evaluation and intent-to-change polls are
    added as drafts after its last poll, under its last case. Adding them again adds nothing."""
    event = lock_event(event_id)
    last_case = AgendaItem.objects.filter(event=event).order_by("-position", "-id").first()
    if last_case is None:
        raise DomainError("unknown_case", "Put a case on the agenda first: the evaluation follows it.")
    existing = set(Poll.objects.filter(event=event).values_list("question", flat=True))
    position = (Poll.objects.filter(event=event).aggregate(last=Max("position"))["last"] or 0) + 1
    added = []
    for spec in STANDARD_POLLS:
        if spec["question"] in existing:
            continue
        poll = Poll.objects.create(
            event=event, case_id=last_case.case_id, position=position, kind=spec["kind"],
            question=spec["question"], purpose=spec["purpose"],
        )  # fmt: skip
        Option.objects.bulk_create(
            Option(poll=poll, label=label, position=n) for n, label in enumerate(spec["options"], 1)
        )
        added.append(poll)
        position += 1
    if added:
        audit(event, user, "add_standard_polls", ",".join(f"poll:{p.id}" for p in added))
        publish_state(event)
    return added
