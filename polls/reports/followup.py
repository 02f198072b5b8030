"""The follow-up's figures for the outcomes report (Moore's level 5): counts and answers only.

Addresses are counted, never read; answers are read without any key to who gave them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from polls.models import Event, FollowUpAnswer, FollowUpContact, FollowUpResponse, Poll, PollKind
from polls.tallies import word_cloud


@dataclass
class FollowUpItem:
    question: str
    n: int  # responses that answered it
    counts: list[tuple[str, int, float]] = field(default_factory=list)  # (label, n, share of n)
    themes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FollowUpFigures:
    days: int
    left_email: int
    invited: int
    responded: int
    suppressed: bool
    items: list[FollowUpItem] = field(default_factory=list)

    @property
    def response_percent(self) -> float | None:
        return round(100 * self.responded / self.invited, 1) if self.invited else None


def followup_figures(*, event: Event, min_cell: int) -> FollowUpFigures | None:
    if event.followup_days is None:
        return None
    contacts = FollowUpContact.objects.filter(event=event).aggregate(
        left=Count("id"), invited=Count("id", filter=Q(invited_at__isnull=False))
    )
    responded = FollowUpResponse.objects.filter(event=event).count()
    figures = FollowUpFigures(
        days=event.followup_days,
        left_email=contacts["left"],
        invited=contacts["invited"],
        responded=responded,
        suppressed=responded < min_cell,
    )
    if figures.suppressed:
        return figures
    answers = FollowUpAnswer.objects.filter(response__event=event)
    for poll in (
        Poll.objects.filter(pk__in=answers.values("poll")).prefetch_related("options").order_by("position", "id")
    ):
        of_poll = answers.filter(poll=poll)
        n = of_poll.values("response").distinct().count()
        item = FollowUpItem(question=poll.question, n=n)
        if poll.kind == PollKind.TEXT:
            item.themes = word_cloud(list(of_poll.values_list("text", flat=True)))[:10]
        else:
            chosen = dict(of_poll.values_list("option").annotate(c=Count("id")).values_list("option", "c"))
            item.counts = [
                (o.label, chosen.get(o.id, 0), round(100 * chosen.get(o.id, 0) / n, 1) if n else 0.0)
                for o in poll.options.all()
            ]
        figures.items.append(item)
    return figures
