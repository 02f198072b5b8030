"""The outcomes report (`/e/<CODE>/outcomes/`): Moore's levels one by one, with n at each step.

Read from the event report (the one tally) for the whole audience's figures, and from the ballots
for what the whole audience cannot say: who answered a pre and a post question both. Participants
are matched by their pseudonym within the event (the Participant row); nothing here reads a
credit claim or a follow-up email beyond counting them. Figures for a group smaller than the
event's minimum cell size (matched participants, follow-up respondents) are not shown, as the
report does for its segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext, ngettext

from polls.models import CreditClaim, Event, PollKind, PollPurpose, Profession, Vote, VoteChoice
from polls.reports import paired
from polls.reports.build import EventReport, PollReport, event_report
from polls.reports.followup import FollowUpFigures, followup_figures

THEMES_SHOWN = 10


@dataclass
class PrePost:
    pre: PollReport
    post: PollReport
    kind: str  # "choice" (McNemar on the preferred answer) or "rating" (Wilcoxon)
    matched: int
    suppressed: bool
    preferred_labels: list[str] = field(default_factory=list)
    # Unmatched: everyone who answered each round.
    before_preferred: int = 0
    after_preferred: int = 0
    mcnemar: paired.McNemar | None = None
    ratings: paired.Wilcoxon | None = None
    confidence: paired.Wilcoxon | None = None
    confidence_suppressed: bool = False

    @property
    def before_percent(self) -> float | None:
        return _share(self.before_preferred, self.pre.total)

    @property
    def after_percent(self) -> float | None:
        return _share(self.after_preferred, self.post.total)

    @property
    def matched_before_percent(self) -> float | None:
        return _share(self.mcnemar.before, self.mcnemar.n) if self.mcnemar else None

    @property
    def matched_after_percent(self) -> float | None:
        return _share(self.mcnemar.after, self.mcnemar.n) if self.mcnemar else None

    @property
    def p_text(self) -> str:
        test = self.mcnemar or self.ratings
        return paired.p_text(test.p_value if test else None)

    @property
    def confidence_p_text(self) -> str:
        return paired.p_text(self.confidence.p_value if self.confidence else None)


@dataclass
class Item:
    """An evaluation or intent-to-change poll: its answers with n, and the top-two share of a scale."""

    poll: PollReport
    top_two: int | None = None
    themes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def top_two_percent(self) -> float | None:
        return None if self.top_two is None else _share(self.top_two, self.poll.total)


@dataclass
class Level:
    level: str
    name: str
    n: int | None  # how many people this level's figures rest on (None: nothing measured)
    summary: str


@dataclass
class OutcomesReport:
    report: EventReport
    levels: list[Level]
    answered_any: int
    evaluation: list[Item]
    pre_post: list[PrePost]
    decisions: list[PollReport]
    intent: list[Item]
    commitments: list[Item]
    followup: FollowUpFigures | None = None  # when the event has a follow-up
    # Credit claims counted by profession (the accreditor's learner counts) and the hours claimed.
    claims_by_profession: list[tuple[str, int]] = field(default_factory=list)
    hours_claimed: Any = None

    @property
    def event(self) -> Event:
        return self.report.event

    @property
    def min_cell_size(self) -> int:
        return self.report.min_cell_size


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _audience_choices(poll_ids: list[int]) -> dict[tuple[int, int], list[int]]:
    """(poll, participant) -> chosen option ids, audience only (faculty are counted apart)."""
    chosen: dict[tuple[int, int], list[int]] = {}
    rows = VoteChoice.objects.filter(poll_id__in=poll_ids, vote__participant__is_panelist=False).values_list(
        "poll_id", "vote__participant_id", "option_id"
    )
    for poll_id, participant_id, option_id in rows:
        chosen.setdefault((poll_id, participant_id), []).append(option_id)
    return chosen


def _confidences(poll_ids: list[int]) -> dict[tuple[int, int], int]:
    rows = Vote.objects.filter(
        poll_id__in=poll_ids, participant__is_panelist=False, confidence__isnull=False
    ).values_list("poll_id", "participant_id", "confidence")
    return {(poll_id, participant_id): confidence for poll_id, participant_id, confidence in rows}


def _pre_post(pre: PollReport, post: PollReport, min_cell: int) -> PrePost:
    ids = [pre.poll.id, post.poll.id]
    chosen = _audience_choices(ids)
    before = {pid: options for (poll_id, pid), options in chosen.items() if poll_id == pre.poll.id}
    after = {pid: options for (poll_id, pid), options in chosen.items() if poll_id == post.poll.id}
    both = sorted(before.keys() & after.keys())
    kind = "rating" if pre.poll.kind == PollKind.LIKERT else "choice"
    item = PrePost(pre=pre, post=post, kind=kind, matched=len(both), suppressed=len(both) < min_cell)
    preferred_before = {o.id for o in pre.options if o.preferred}
    preferred_after = {o.id for o in post.options if o.preferred}
    item.preferred_labels = [o.label for o in post.options if o.preferred]

    def chose_preferred(options: list[int], preferred: set[int]) -> bool:
        return bool(preferred) and set(options) <= preferred

    item.before_preferred = sum(1 for options in before.values() if chose_preferred(options, preferred_before))
    item.after_preferred = sum(1 for options in after.values() if chose_preferred(options, preferred_after))
    if not item.suppressed and kind == "choice" and preferred_before and preferred_after:
        item.mcnemar = paired.mcnemar_exact(
            [(chose_preferred(before[p], preferred_before), chose_preferred(after[p], preferred_after)) for p in both]
        )
    if not item.suppressed and kind == "rating":
        # A scale's points in their order: the first option is 1.
        point_before = {o.id: i for i, o in enumerate(pre.options, start=1)}
        point_after = {o.id: i for i, o in enumerate(post.options, start=1)}
        item.ratings = paired.wilcoxon_signed_rank(
            [(point_before[before[p][0]], point_after[after[p][0]]) for p in both]
        )
    if pre.poll.ask_confidence and post.poll.ask_confidence:
        confidence = _confidences(ids)
        sure = [
            (confidence[(pre.poll.id, p)], confidence[(post.poll.id, p)])
            for p in both
            if (pre.poll.id, p) in confidence and (post.poll.id, p) in confidence
        ]
        item.confidence_suppressed = len(sure) < min_cell
        if not item.confidence_suppressed:
            item.confidence = paired.wilcoxon_signed_rank(sure)
    return item


def _item(poll: PollReport) -> Item:
    item = Item(poll=poll)
    if poll.poll.kind == PollKind.LIKERT and poll.total:
        item.top_two = sum(o.count for o in poll.options[-2:])
    if poll.poll.kind == PollKind.TEXT:
        item.themes = poll.words[:THEMES_SHOWN]
    return item


def _answered_any(event: Event) -> int:
    return (
        Vote.objects.filter(poll__event=event, participant__is_panelist=False).values("participant").distinct().count()
    )


def outcomes_report(*, event: Event) -> OutcomesReport:
    """Every figure of the outcomes page and PDF, as of now."""
    report = event_report(event=event)
    asked = [p for p in report.polls if p.asked]
    by_id = {p.poll.id: p for p in asked}
    min_cell = report.min_cell_size
    pre_post = []
    for post in asked:
        pre = by_id.get(post.poll.round_of_id)
        if post.poll.purpose == PollPurpose.POST and pre is not None and pre.poll.purpose == PollPurpose.PRE:
            pre_post.append(_pre_post(pre, post, min_cell))

    def of(purpose: str) -> list[PollReport]:
        return [p for p in asked if p.poll.purpose == purpose]

    outcomes = OutcomesReport(
        report=report,
        levels=[],
        answered_any=_answered_any(event),
        evaluation=[_item(p) for p in of(PollPurpose.EVALUATION)],
        pre_post=pre_post,
        decisions=[p for p in of(PollPurpose.DECISION) if p.concordance_preferred and p.poll.round_of_id is None],
        intent=[_item(p) for p in of(PollPurpose.INTENT)],
        commitments=[_item(p) for p in of(PollPurpose.COMMITMENT)],
        followup=followup_figures(event=event, min_cell=min_cell),
    )
    if event.credit_hours is not None:
        claims = CreditClaim.objects.filter(event=event)
        counts = dict(claims.values_list("profession").annotate(n=Count("id")).values_list("profession", "n"))
        labels = dict(Profession.choices)
        outcomes.claims_by_profession = [(labels[key], counts[key]) for key in Profession.values if counts.get(key)]
        outcomes.hours_claimed = claims.aggregate(total=Sum("hours"))["total"] or 0
    outcomes.levels = _levels(outcomes)
    return outcomes


def _levels(o: OutcomesReport) -> list[Level]:
    """One line per level for the page's summary table: what it rests on, and how many people."""
    report = o.report
    joined = gettext("%(joined)s joined, %(answered)s answered a poll") % {
        "joined": report.joined,
        "answered": o.answered_any,
    }
    if report.event.credit_hours is not None:
        claims = report.credit_claims
        joined += "; " + ngettext("%(n)s credit claim", "%(n)s credit claims", claims) % {"n": claims}
    levels = [Level("1", gettext("Participation"), report.joined, joined)]
    evaluation_n = max((i.poll.total for i in o.evaluation), default=None)
    levels.append(
        Level(
            "2",
            gettext("Satisfaction"),
            evaluation_n,
            ngettext("%(n)s evaluation item", "%(n)s evaluation items", len(o.evaluation)) % {"n": len(o.evaluation)}
            if o.evaluation
            else gettext("No evaluation item was asked"),
        )
    )
    matched = max((p.matched for p in o.pre_post), default=None)
    levels.append(
        Level(
            "3",
            gettext("Knowledge (pre and post)"),
            matched,
            ngettext(
                "%(n)s pre/post question, matched by pseudonym",
                "%(n)s pre/post questions, matched by pseudonym",
                len(o.pre_post),
            )
            % {"n": len(o.pre_post)}
            if o.pre_post
            else gettext("No pre/post question"),
        )
    )
    competence = [p.total for p in o.decisions] + [i.poll.total for i in o.intent]
    decisions = ngettext("%(n)s case decision", "%(n)s case decisions", len(o.decisions)) % {"n": len(o.decisions)}
    intent = ngettext("%(n)s intent-to-change item", "%(n)s intent-to-change items", len(o.intent)) % {
        "n": len(o.intent)
    }
    levels.append(
        Level(
            "4",
            gettext("Competence (case decisions and intent to change)"),
            max(competence, default=None),
            f"{decisions}, {intent}"
            if competence
            else gettext("No case decision with a preferred answer and no intent-to-change item"),
        )
    )
    followup = o.followup
    if followup is None or not followup.invited:
        levels.append(Level("5", gettext("Performance (follow-up)"), None, gettext("No follow-up has been sent yet")))
    else:
        levels.append(
            Level(
                "5",
                gettext("Performance (follow-up)"),
                followup.responded,
                gettext("%(responded)s of %(invited)s invited answered the follow-up")
                % {"responded": followup.responded, "invited": followup.invited},
            )
        )
    return levels
