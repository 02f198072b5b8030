"""The event report as one object, built from `selectors.poll_results` (the live screens' tally)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cases.models import Case, TeachingPoint
from polls import selectors
from polls.models import (
    AgendaItem,
    AnswerStatus,
    CaseFactReveal,
    Event,
    EventStatus,
    ModeratorAction,
    Participant,
    Poll,
    PollKind,
    PollState,
    TeachingPointReveal,
)
from polls.reports import svg
from polls.reports.outcomes import outcome_levels


def percent(n: int | None, total: int | None) -> float | None:
    """A share in percent with one decimal, as the live screens round it (comparisons._percent)."""
    if n is None or not total:
        return None
    return round(100 * n / total, 1)


@dataclass(frozen=True)
class OptionFigures:
    id: int
    label: str
    preferred: bool
    count: int
    percent: float | None
    panel_count: int | None = None
    panel_percent: float | None = None
    confidence_mean: float | None = None
    confidence_n: int | None = None
    borda: int | None = None
    mean_rank: float | None = None
    shift: float | None = None  # points since the previous round


@dataclass(frozen=True)
class RoundColumn:
    poll_id: int
    number: int
    total: int
    counts: list[int]
    percents: list[float]
    shifts: list[float] | None


@dataclass(frozen=True)
class Transitions:
    from_round: int
    to_round: int
    labels_from: list[str]
    labels_to: list[str]
    matrix: list[list[int]]
    participants: int
    changed: int

    @property
    def rows(self) -> list[tuple[str, list[int]]]:
        return list(zip(self.labels_from, self.matrix, strict=False))


@dataclass(frozen=True)
class SegmentRow:
    segment: str
    total: int
    counts: list[int] | None  # per option, in option order; None when suppressed or not a choice poll
    suppressed: bool


@dataclass(frozen=True)
class SegmentTable:
    attribute: str
    label: str
    rows: list[SegmentRow]


@dataclass
class PollReport:
    poll: Poll
    number: str
    kind_label: str
    total: int  # audience ballots
    panel_total: int
    panel_suppressed: bool
    options: list[OptionFigures]
    scale: dict[str, Any] | None = None  # rating scale: mean, median, points
    numeric: dict[str, Any] | None = None  # n, mean, median, min, max, histogram, unit
    answers: list[str] = field(default_factory=list)  # approved free text only
    words: list[dict[str, Any]] = field(default_factory=list)
    pending_answers: int = 0
    confidence_all: dict[str, Any] | None = None  # numbers and text: one mean
    ranking: list[OptionFigures] = field(default_factory=list)  # by Borda score
    rounds: list[RoundColumn] = field(default_factory=list)
    round_labels: list[str] = field(default_factory=list)
    transitions: Transitions | None = None
    concordance_preferred: dict[str, Any] | None = None
    concordance_panel: dict[str, Any] | None = None
    segments: list[SegmentTable] = field(default_factory=list)
    chart: str = ""

    @property
    def kind(self) -> str:
        return self.poll.kind

    @property
    def round_rows(self) -> list[tuple[str, list[float]]]:
        """Per answer, its share in each round (rounds side by side)."""
        return [(label, [r.percents[i] for r in self.rounds]) for i, label in enumerate(self.round_labels)]

    @property
    def preferred_percent(self) -> float | None:
        c = self.concordance_preferred
        return None if not c else round(100 * c["share"], 1)

    @property
    def panel_majority_percent(self) -> float | None:
        c = self.concordance_panel
        return None if not c else round(100 * c["share"], 1)

    @property
    def asked(self) -> bool:
        return self.poll.state != PollState.DRAFT

    @property
    def is_choice(self) -> bool:
        return self.poll.kind in (PollKind.SINGLE, PollKind.MULTI, PollKind.LIKERT, PollKind.RANKING)

    @property
    def preferred_labels(self) -> list[str]:
        return [o.label for o in self.options if o.preferred]

    @property
    def leader(self) -> OptionFigures | None:
        if self.ranking:
            return self.ranking[0]
        ranked = sorted(self.options, key=lambda o: -o.count)
        return ranked[0] if ranked and ranked[0].count else None


@dataclass(frozen=True)
class Reference:
    citation: str
    pmid: str
    doi: str
    nct: str
    url: str


@dataclass(frozen=True)
class RevealedPoint:
    title: str
    text: str
    revealed_at: datetime
    references: list[Reference]


@dataclass
class CaseReport:
    case: Case
    summary: list[tuple[str, str]]  # (label, text), from the structured fields
    polls: list[PollReport]
    teaching_points: list[RevealedPoint]  # in the order they were revealed
    revealed_facts: list[tuple[str, str]]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    who: str
    what: str


@dataclass
class EventReport:
    event: Event
    generated_at: datetime
    snapshot: bool  # the event has not ended: these are the figures as of generated_at
    moderators: list[str]
    faculty: list[str]
    joined: int
    panel_joined: int
    cases: list[CaseReport]
    timeline: list[TimelineEntry]
    min_cell_size: int
    profile_questions: list[dict[str, Any]] = field(default_factory=list)  # the event's own (key, label, options)
    credit_claims: int = 0  # counted only: a claim is never joined to answers
    outcomes: list[Any] = field(default_factory=list)  # Moore's levels (polls.reports.outcomes)
    questions: list[Any] = field(default_factory=list)  # approved audience questions (selectors.QuestionItem)

    @property
    def polls(self) -> list[PollReport]:
        return [p for c in self.cases for p in c.polls]


KIND_LABELS = dict(PollKind.choices)
# The timeline's words, in the reader's language (gettext_lazy: read when the page renders).
ACTIONS = {
    "start_event": _("Event started"),
    "end_event": _("Event ended"),
    "show_case": _("Case shown"),
    "open_poll": _("Poll opened"),
    "close_poll": _("Poll closed"),
    "timer_close": _("Poll closed by its countdown"),
    "reveal_results": _("Results revealed"),
    "hide_results": _("Results hidden"),
    "reveal_preferred": _("Preferred answer revealed"),
    "hide_preferred": _("Preferred answer withdrawn"),
    "reveal_teaching_point": _("Teaching point revealed"),
    "hide_teaching_point": _("Teaching point withdrawn"),
    "reveal_fact": _("Case detail revealed"),
    "hide_fact": _("Case detail withdrawn"),
    "new_round": _("New round added"),
    "duplicate_poll": _("Poll duplicated"),
    "reset_poll": _("Poll reset"),
    "approve_answer": _("Free-text answer approved"),
    "reject_answer": _("Free-text answer hidden"),
    "show_segments": _("Split shown on the projector"),
    "set_moderators": _("Moderators changed"),
    "rotate_presenter_key": _("Presenter link renewed"),
    "invite_panelist": _("Panelist link created"),
    "set_profile_questions": _("Profile questions changed"),
    "revoke_panelist": _("Panelist link withdrawn"),
    "export": _("Downloaded"),
    "publish_recap": _("Recap published"),
    "withdraw_recap": _("Recap withdrawn"),
    "share_recap": _("Recap's public link switched on"),
    "unshare_recap": _("Recap's public link switched off"),
}


def _user_name(user) -> str:
    if user is None:
        return gettext("system")
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def case_summary(case: Case) -> list[tuple[str, list[tuple[str, bool]]]]:
    """The case's structured fields as labelled lines (no free text beyond what the author wrote).

    Each line is (label, parts); a part is (text, own): `own` marks the author's text, which the
    page sets in the case's language (lang="…"), while the labels and the phrases the report
    writes itself ("72-year-old woman", "diagnosed 3 years ago") are in the reader's."""
    sex = {
        "male": gettext("%(age)s-year-old man"),
        "female": gettext("%(age)s-year-old woman"),
    }.get(case.patient_sex, gettext("%(age)s-year-old patient"))
    lines = [(gettext("Patient"), [(sex % {"age": case.patient_age}, False)])]
    diagnosis = [(case.diagnosis, True)]
    if case.years_since_diagnosis is not None:
        years = case.years_since_diagnosis
        since = ngettext("diagnosed %(years)s year ago", "diagnosed %(years)s years ago", years) % {"years": years}
        diagnosis.append((", " + since, False))
    lines.append((gettext("Diagnosis"), diagnosis))
    staging = ", ".join(f"{s.system} {s.value}" for s in case.staging.all())
    if staging:
        lines.append((gettext("Staging"), [(staging, True)]))
    history = "; ".join(h.text for h in case.history.all())
    if history:
        lines.append((gettext("History"), [(history, True)]))
    for line in case.therapy_lines.all():
        parts = [line.regimen]
        if line.agents:
            parts.append(f"({line.agents})")
        text = [(" ".join(parts), True)]
        if line.best_response:
            text += [("; " + gettext("best response") + " ", False), (line.best_response, True)]
        if line.outcome:
            text += [("; ", False), (line.outcome, True)]
        lines.append((gettext("Line %(number)s") % {"number": line.line_number}, text))
    if case.ecog is not None:
        lines.append(("ECOG", [(str(case.ecog), False)]))
    if case.current_status:
        lines.append((gettext("Now"), [(case.current_status, True)]))
    if case.clinical_question:
        lines.append((gettext("Question"), [(case.clinical_question, True)]))
    return lines


def _option_figures(poll: Poll, results: dict[str, Any], total: int) -> list[OptionFigures]:
    counts = results.get("counts", {})
    panel = results.get("panel", {})
    panel_counts = panel.get("counts")
    confidence = results.get("confidence", {})
    ranking = {r["option"]: r for r in results.get("ranking", [])}
    shifts: list[float] | None = None
    for r in results.get("rounds", []):
        if r["poll"] == poll.id:
            shifts = r.get("shift")
    figures = []
    for index, option in enumerate(poll.options.all()):
        count = counts.get(str(option.id), 0)
        conf = confidence.get(str(option.id), {})
        rank = ranking.get(option.id, {})
        figures.append(
            OptionFigures(
                id=option.id,
                label=option.label,
                preferred=option.is_preferred,
                count=count,
                percent=percent(count, total) if total else 0.0,
                panel_count=None if panel_counts is None else panel_counts.get(str(option.id), 0),
                panel_percent=None
                if panel_counts is None
                else percent(panel_counts.get(str(option.id), 0), panel["total"]),
                confidence_mean=conf.get("mean"),
                confidence_n=conf.get("n"),
                borda=rank.get("borda"),
                mean_rank=rank.get("mean_rank"),
                shift=shifts[index] if shifts and index < len(shifts) else None,
            )
        )
    return figures


def _segments(poll: Poll, results: dict[str, Any]) -> list[SegmentTable]:
    option_ids = [str(o.id) for o in poll.options.all()]
    tables = []
    split = results.get("segments", {})
    labels = {q["key"]: q["label"] for q in selectors.profile_questions(event_id=poll.event_id)} if split else {}
    for attribute, rows in split.items():
        tables.append(
            SegmentTable(
                attribute=attribute,
                label=labels.get(attribute, attribute),
                rows=[
                    SegmentRow(
                        segment=row["segment"],
                        total=row["total"],
                        counts=[row["counts"].get(oid, 0) for oid in option_ids] if "counts" in row else None,
                        suppressed=bool(row.get("suppressed")),
                    )
                    for row in rows
                ],
            )
        )
    return tables


def poll_report(poll: Poll, number: str) -> PollReport:
    """One poll's figures, every one of them read from poll_results' moderator view."""
    results = selectors.poll_results(poll=poll)
    data = results.moderator
    total = results.total
    panel = data.get("panel", {})
    options = _option_figures(poll, data, total)
    report = PollReport(
        poll=poll,
        number=number,
        kind_label=KIND_LABELS.get(poll.kind, poll.kind),
        total=total,
        panel_total=panel.get("total", 0),
        panel_suppressed=bool(panel.get("suppressed")),
        options=options,
    )
    if "scale" in data:
        report.scale = data["scale"]
    if "numeric" in data:
        report.numeric = data["numeric"]
    if poll.kind == PollKind.TEXT:
        report.answers = [a["text"] for a in data.get("answers", []) if a.get("status") == AnswerStatus.APPROVED]
        report.words = data.get("words", [])
        report.pending_answers = data.get("pending", 0)
    if "all" in data.get("confidence", {}):
        report.confidence_all = data["confidence"]["all"]
    if "ranking" in data:
        by_id = {o.id: o for o in options}
        report.ranking = [by_id[r["option"]] for r in data["ranking"] if r["option"] in by_id]
    rounds = data.get("rounds", [])
    if rounds and "transitions" in data:
        report.rounds = [
            RoundColumn(
                poll_id=r["poll"],
                number=r["round"],
                total=r["total"],
                counts=r["counts_in_order"],
                percents=r["percent"],
                shifts=r.get("shift"),
            )
            for r in rounds
        ]
        report.round_labels = [o.label for o in poll.options.all()]
        t = data["transitions"]
        labels = _labels_of([t["from_poll"], t["to_poll"]])
        report.transitions = Transitions(
            from_round=next((r["round"] for r in rounds if r["poll"] == t["from_poll"]), 0),
            to_round=poll.round_number,
            labels_from=[labels.get(o, "") for o in t["from_options"]],
            labels_to=[labels.get(o, "") for o in t["to_options"]],
            matrix=t["matrix"],
            participants=t["participants"],
            changed=t["changed"],
        )
    concordance = data.get("concordance", {})
    report.concordance_preferred = concordance.get("preferred")
    report.concordance_panel = concordance.get("panel_majority")
    report.segments = _segments(poll, data)
    report.chart = svg.poll_chart(report)
    return report


def _labels_of(poll_ids: list[int]) -> dict[int, str]:
    from polls.models import Option

    return dict(Option.objects.filter(poll_id__in=poll_ids).values_list("id", "label"))


def _timeline(event: Event) -> list[TimelineEntry]:
    """The audit log, oldest first, with targets named (polls by question number, never answer text)."""
    entries = []
    for action in ModeratorAction.objects.filter(event=event).select_related("user").order_by("created_at", "id"):
        what = ACTIONS.get(action.action, action.action.replace("_", " ").capitalize())
        if action.action == "export":
            what = (
                gettext("Report opened")
                if action.target == "report"
                else gettext("Downloaded: %(file)s") % {"file": action.target or "csv"}
            )
        entries.append(TimelineEntry(at=action.created_at, who=_user_name(action.user), what=what))
    return entries


def _revealed_points(event: Event) -> dict[int, list[RevealedPoint]]:
    reveals = TeachingPointReveal.objects.filter(event=event).order_by("revealed_at", "id")
    points = {
        p.id: p
        for p in TeachingPoint.objects.filter(pk__in=reveals.values("teaching_point")).prefetch_related("references")
    }
    by_case: dict[int, list[RevealedPoint]] = {}
    for reveal in reveals:
        point = points.get(reveal.teaching_point_id)
        if point is None:
            continue
        by_case.setdefault(point.case_id, []).append(
            RevealedPoint(
                title=point.title,
                text=point.text,
                revealed_at=reveal.revealed_at,
                references=[Reference(r.citation, r.pmid, r.doi, r.nct, r.url) for r in point.references.all()],
            )
        )
    return by_case


def event_report(*, event: Event, now: datetime | None = None) -> EventReport:
    """Everything the report shows, as of now: a snapshot while the event has not ended."""
    now = now or timezone.now()
    case_ids = list(AgendaItem.objects.filter(event=event).values_list("case_id", flat=True))
    polls_by_case: dict[int, list[Poll]] = {}
    polls = (
        Poll.objects.filter(event=event)
        .select_related("event", "case")
        .prefetch_related("options")
        .order_by("position", "round_number", "id")
    )
    for poll in polls:
        polls_by_case.setdefault(poll.case_id, []).append(poll)
    # A poll whose case has left the agenda still happened: its case follows the agenda's.
    case_ids += [case_id for case_id in polls_by_case if case_id not in case_ids]
    cases = {
        c.id: c for c in Case.objects.filter(pk__in=case_ids).prefetch_related("staging", "history", "therapy_lines")
    }
    points = _revealed_points(event)
    facts: dict[int, list[tuple[str, str]]] = {}
    for reveal in CaseFactReveal.objects.filter(event=event).select_related("fact").order_by("revealed_at", "id"):
        facts.setdefault(reveal.fact.case_id, []).append((reveal.fact.label, reveal.fact.text))
    case_reports = []
    for case_number, case_id in enumerate(case_ids, start=1):
        poll_reports = []
        question = 0
        for poll in polls_by_case.get(case_id, []):
            if poll.round_of_id is None:
                question += 1
            number = f"{case_number}.{question}"
            if poll.round_number > 1:
                number = gettext("%(number)s round %(round)s") % {"number": number, "round": poll.round_number}
            poll_reports.append(poll_report(poll, number))
        case_reports.append(
            CaseReport(
                case=cases[case_id],
                summary=case_summary(cases[case_id]),
                polls=poll_reports,
                teaching_points=points.get(case_id, []),
                revealed_facts=facts.get(case_id, []),
            )
        )
    people = Participant.objects.filter(event=event).aggregate(
        audience=Count("id", filter=Q(is_panelist=False)), panel=Count("id", filter=Q(is_panelist=True))
    )
    report = EventReport(
        event=event,
        generated_at=now,
        snapshot=event.status != EventStatus.ENDED,
        moderators=sorted(_user_name(u) for u in event.moderators.all()),
        faculty=sorted(_user_name(u) for u in event.panelists.all()),
        joined=people["audience"],
        panel_joined=people["panel"],
        cases=case_reports,
        timeline=_timeline(event),
        min_cell_size=event.min_cell_size,
        profile_questions=selectors.profile_questions(event_id=event.id),
        credit_claims=event.credit_claims.count(),
        # What the room was shown: approved questions in its order (pending and dismissed never
        # reached the room; names are left out, as for every participant input in the report).
        questions=[q for q in selectors.event_questions(event_id=event.id).items if q.state == "approved"],
    )
    report.outcomes = outcome_levels(report)
    return report
