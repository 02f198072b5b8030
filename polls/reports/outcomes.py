"""The event's outcomes on Moore's levels, read from the report's figures (the one tally).

Accreditors and sponsors read continuing-education outcomes as participation (1), satisfaction
(2), knowledge (3), competence (4) and performance (5). Each level here is built from polls by
their purpose (polls.models.PollPurpose); a level with nothing to show says so rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext, ngettext

from caseboard.i18n import format_percent
from polls.models import PollPurpose

# The report's own types (polls.reports.build) are read by attribute here: build calls this module.
EventReport = PollReport = Any


class OutcomeLine(str):
    """One line of a level: the whole sentence as text, and apart the poll's question (the case
    author's words, in the case's language) and what the report says of it (the reader's)."""

    question: str = ""
    language: str = ""
    rest: str = ""

    @classmethod
    def about(cls, poll: PollReport, rest: str) -> OutcomeLine:
        line = cls(f"{poll.poll.question} {rest}")
        line.question, line.rest = poll.poll.question, rest
        line.language = getattr(poll.poll.case, "language", "")
        return line


@dataclass
class OutcomeLevel:
    level: str
    name: str
    lines: list[str] = field(default_factory=list)


def _top_two_box(poll: PollReport) -> tuple[int, int]:
    """(agreeing, answered): the last two points of a rating scale, the usual "agree" share."""
    agreeing = sum(o.count for o in poll.options[-2:])
    return agreeing, poll.total


def _percent(part: int, whole: int) -> str:
    return format_percent(round(100 * part / whole)) if whole else "–"


def outcome_levels(report: EventReport) -> list[OutcomeLevel]:
    asked = [p for p in report.polls if p.asked]
    by_id = {p.poll.id: p for p in asked}
    joined = ngettext("%(n)s participant joined.", "%(n)s participants joined.", report.joined) % {"n": report.joined}
    participation = OutcomeLevel("1", gettext("Participation"), [joined])
    answering = max((p.total for p in asked), default=0)
    participation.lines.append(
        ngettext("The most answered poll had %(n)s answer.", "The most answered poll had %(n)s answers.", answering)
        % {"n": answering}
    )
    if report.event.credit_hours is not None:
        claims = report.credit_claims
        participation.lines.append(ngettext("%(n)s credit claim.", "%(n)s credit claims.", claims) % {"n": claims})

    satisfaction = OutcomeLevel("2", gettext("Satisfaction"))
    for poll in asked:
        if poll.poll.purpose == PollPurpose.EVALUATION and poll.options and poll.total:
            agreeing, answered = _top_two_box(poll)
            rest = gettext("%(percent)s chose one of the top two answers (%(part)s of %(whole)s).") % {
                "percent": _percent(agreeing, answered),
                "part": agreeing,
                "whole": answered,
            }
            satisfaction.lines.append(OutcomeLine.about(poll, rest))

    knowledge = OutcomeLevel("3", gettext("Knowledge (pre and post)"))
    for post in asked:
        pre = by_id.get(post.poll.round_of_id) if post.poll.purpose == PollPurpose.POST else None
        if pre is None or not (pre.concordance_preferred and post.concordance_preferred):
            continue
        before, after = pre.preferred_percent, post.preferred_percent
        rest = gettext(
            "The evidence-preferred answer: %(before)s before the teaching, %(after)s after (%(change)s points)."
        ) % {
            "before": format_percent(round(before)),
            "after": format_percent(round(after)),
            "change": f"{after - before:+.0f}",
        }
        knowledge.lines.append(OutcomeLine.about(pre, rest))

    competence = OutcomeLevel("4", gettext("Competence (case decisions and intent to change)"))
    for poll in asked:
        purpose = poll.poll.purpose
        if purpose == PollPurpose.DECISION and poll.concordance_preferred and poll.poll.round_of_id is None:
            rest = gettext("%(percent)s chose the evidence-preferred answer.") % {
                "percent": format_percent(round(poll.preferred_percent))
            }
            competence.lines.append(OutcomeLine.about(poll, rest))
        elif purpose == PollPurpose.INTENT and poll.options and poll.total:
            leader = poll.leader
            # The leading answer is the author's words inside the reader's sentence: only the question
            # is marked with the case's language.
            rest = gettext("%(answer)s: %(percent)s (%(part)s of %(whole)s).") % {
                "answer": leader.label,
                "percent": _percent(leader.count, poll.total),
                "part": leader.count,
                "whole": poll.total,
            }
            competence.lines.append(OutcomeLine.about(poll, rest))

    days = report.event.followup_days
    performance = OutcomeLevel(
        "5",
        gettext("Performance"),
        [
            ngettext(
                "Measured by the follow-up survey %(days)s day after the event: see the outcomes report.",
                "Measured by the follow-up survey %(days)s days after the event: see the outcomes report.",
                days,
            )
            % {"days": days}
            if days
            else gettext("Not measured by the event itself: it needs a follow-up.")
        ],
    )
    levels = [participation, satisfaction, knowledge, competence, performance]
    for level in levels:
        if not level.lines:
            level.lines.append(gettext("No poll of this event measures it."))
    return levels
