"""Writes of authoring that keep an event consistent with what its polls ask about."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max, Min

from cases.models import Case
from polls.models import AgendaItem, Poll
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
