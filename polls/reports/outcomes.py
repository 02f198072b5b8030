"""The event's outcomes on Moore's levels, read from the report's figures (the one tally).

Accreditors and sponsors read continuing-education outcomes as participation (1), satisfaction
(2), knowledge (3), competence (4) and performance (5). Each level here is built from polls by
their purpose (polls.models.PollPurpose); a level with nothing to show says so rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from polls.models import PollPurpose

# The report's own types (polls.reports.build) are read by attribute here: build calls this module.
EventReport = PollReport = Any


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
    return f"{100 * part / whole:.0f}%" if whole else "–"


def outcome_levels(report: EventReport) -> list[OutcomeLevel]:
    asked = [p for p in report.polls if p.asked]
    by_id = {p.poll.id: p for p in asked}
    participation = OutcomeLevel("1", "Participation", [f"{report.joined} participants joined."])
    answering = max((p.total for p in asked), default=0)
    participation.lines.append(f"The most answered poll had {answering} answers.")
    if report.event.credit_hours is not None:
        participation.lines.append(f"{report.credit_claims} credit claims.")

    satisfaction = OutcomeLevel("2", "Satisfaction")
    for poll in asked:
        if poll.poll.purpose == PollPurpose.EVALUATION and poll.options and poll.total:
            agreeing, answered = _top_two_box(poll)
            satisfaction.lines.append(
                f"{poll.poll.question} {_percent(agreeing, answered)} chose one of the top two answers "
                f"({agreeing} of {answered})."
            )

    knowledge = OutcomeLevel("3", "Knowledge (pre and post)")
    for post in asked:
        pre = by_id.get(post.poll.round_of_id) if post.poll.purpose == PollPurpose.POST else None
        if pre is None or not (pre.concordance_preferred and post.concordance_preferred):
            continue
        before, after = pre.preferred_percent, post.preferred_percent
        knowledge.lines.append(
            f"{pre.poll.question} The evidence-preferred answer: {before:.0f}% before the teaching, "
            f"{after:.0f}% after ({after - before:+.0f} points)."
        )

    competence = OutcomeLevel("4", "Competence (case decisions and intent to change)")
    for poll in asked:
        purpose = poll.poll.purpose
        if purpose == PollPurpose.DECISION and poll.concordance_preferred and poll.poll.round_of_id is None:
            competence.lines.append(
                f"{poll.poll.question} {poll.preferred_percent:.0f}% chose the evidence-preferred answer."
            )
        elif purpose == PollPurpose.INTENT and poll.options and poll.total:
            leader = poll.leader
            competence.lines.append(
                f"{poll.poll.question} {leader.label}: {_percent(leader.count, poll.total)} "
                f"({leader.count} of {poll.total})."
            )

    days = report.event.followup_days
    performance = OutcomeLevel(
        "5",
        "Performance",
        [
            f"Measured by the follow-up survey {days} days after the event: see the outcomes report."
            if days
            else "Not measured by the event itself: it needs a follow-up."
        ],
    )
    levels = [participation, satisfaction, knowledge, competence, performance]
    for level in levels:
        if not level.lines:
            level.lines.append("No poll of this event measures it.")
    return levels
