"""The report as rows: the complete CSV and the XLSX workbook both write these, cell for cell.

One long table, a `record` column saying what each row is (docs in README, "Exports"):
`option` rows keep the columns and meaning of the first export (counts, shares, panel counts)
and add the figures of the poll's kind; `segment` rows are the small-cell suppressed splits
as before; `statistic`, `histogram`, `answer` and `transition` rows carry the rest; `ballot`
rows are one answer of one audience member under an event-scoped pseudonym.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.utils.crypto import salted_hmac

from polls import selectors
from polls.models import AnswerStatus, Event, Option, Participant, Vote, VoteChoice
from polls.reports.build import EventReport, PollReport

LEGACY_HEADER = [
    "poll_id", "case", "question", "kind", "round", "state", "option_id", "option", "preferred",
    "audience_total", "audience_count", "audience_percent", "panel_count",
    "segment_attribute", "segment", "segment_total", "segment_count",
]  # fmt: skip
EXTRA_HEADER = [
    "record", "metric", "value", "panel_total", "panel_percent", "confidence_mean", "confidence_n",
    "borda", "mean_rank", "shift_points", "bin_from", "bin_to", "to_option_id", "to_option",
    "participant", "rank", "number", "text", "confidence",
]  # fmt: skip
HEADER = LEGACY_HEADER + EXTRA_HEADER
SUPPRESSED = "suppressed"


def _percent_text(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _base(poll: PollReport) -> dict[str, Any]:
    p = poll.poll
    return {
        "poll_id": p.id,
        "case": p.case.title,
        "question": p.question,
        "kind": p.kind,
        "round": p.round_number,
        "state": p.state,
    }


def _stat(poll: PollReport, metric: str, value: Any) -> dict[str, Any]:
    return {**_base(poll), "record": "statistic", "metric": metric, "value": value}


def poll_rows(poll: PollReport) -> Iterator[dict[str, Any]]:
    """Every figure of one poll, from its PollReport (itself from poll_results)."""
    base = _base(poll)
    yield _stat(poll, "audience_total", poll.total)
    if poll.panel_total:
        yield _stat(poll, "panel_total", poll.panel_total)
        if poll.panel_suppressed:
            yield _stat(poll, "panel_suppressed", "yes")
    for option in poll.options:
        yield {
            **base,
            "record": "option",
            "option_id": option.id,
            "option": option.label,
            "preferred": option.preferred,
            "audience_total": poll.total,
            "audience_count": option.count,
            "audience_percent": _percent_text(option.percent) if poll.total else "",
            "panel_count": "" if option.panel_count is None else option.panel_count,
            "panel_total": poll.panel_total if option.panel_count is not None else "",
            "panel_percent": _percent_text(option.panel_percent),
            "confidence_mean": "" if option.confidence_mean is None else option.confidence_mean,
            "confidence_n": "" if option.confidence_n is None else option.confidence_n,
            "borda": "" if option.borda is None else option.borda,
            "mean_rank": "" if option.mean_rank is None else option.mean_rank,
            "shift_points": "" if option.shift is None else option.shift,
        }
    if not poll.options:
        yield {**base, "record": "option", "audience_total": poll.total}
    if poll.scale:
        yield _stat(poll, "scale_mean", poll.scale["mean"])
        yield _stat(poll, "scale_median", poll.scale["median"])
        yield _stat(poll, "scale_points", poll.scale["points"])
    if poll.numeric:
        for metric in ("n", "mean", "median", "min", "max", "unit"):
            yield _stat(poll, metric, poll.numeric.get(metric))
        for b in poll.numeric.get("histogram", []):
            yield {**base, "record": "histogram", "bin_from": b["from"], "bin_to": b["to"], "value": b["count"]}
    if poll.confidence_all:
        yield _stat(poll, "confidence_mean", poll.confidence_all["mean"])
        yield _stat(poll, "confidence_n", poll.confidence_all["n"])
    for text in poll.answers:
        yield {**base, "record": "answer", "text": text}
    if poll.poll.kind == "text":
        yield _stat(poll, "answers_approved", len(poll.answers))
        yield _stat(poll, "answers_pending", poll.pending_answers)
    for name, figures in (("preferred", poll.concordance_preferred), ("panel_majority", poll.concordance_panel)):
        if figures:
            yield _stat(poll, f"concordance_{name}_agreeing", figures["agreeing"])
            yield _stat(poll, f"concordance_{name}_percent", round(100 * figures["share"], 1))
    if poll.poll.preferred_rationale and poll.preferred_labels:
        yield _stat(poll, "preferred_rationale", poll.poll.preferred_rationale)
    if poll.transitions:
        t = poll.transitions
        yield _stat(poll, "transition_participants", t.participants)
        yield _stat(poll, "transition_changed", t.changed)
        to_ids = [o.id for o in poll.options]
        for i, row in enumerate(t.matrix):
            for j, n in enumerate(row):
                yield {
                    **base,
                    "record": "transition",
                    "metric": f"round {t.from_round} to round {t.to_round}",
                    "option": t.labels_from[i],
                    "to_option_id": to_ids[j] if j < len(to_ids) else "",
                    "to_option": t.labels_to[j],
                    "value": n,
                }
    for table in poll.segments:
        for row in table.rows:
            for index, option in enumerate(poll.options or [None]):
                yield {
                    **base,
                    "record": "segment",
                    "option_id": option.id if option else "",
                    "option": option.label if option else "",
                    "segment_attribute": table.attribute,
                    "segment": row.segment,
                    "segment_total": row.total,
                    "segment_count": "" if row.counts is None or option is None else row.counts[index],
                }


def pseudonym(event: Event, participant_id: int) -> str:
    """The same audience member across one event's polls, and no one outside it: an HMAC of the
    participant with the event under SECRET_KEY, truncated. Never a session key, address or name."""
    digest = salted_hmac("caseboard.reports.pseudonym", f"{event.id}:{participant_id}").hexdigest()
    return "P-" + digest[:12]


def _profiles(event: Event, participant_ids: set[int]) -> dict[int, dict[str, str]]:
    """Profile answers for ballot rows, only where the participant's whole combination of answers is
    shared by at least min_cell_size of the event's voters; everyone else's are marked suppressed."""
    asked = selectors.profile_keys(event_id=event.id)
    rows = dict(Participant.objects.filter(pk__in=participant_ids).values_list("id", "profile"))
    combos = {pid: tuple((profile or {}).get(a, "") for a in asked) for pid, profile in rows.items()}
    sizes = Counter(combos.values())
    shown = {}
    for pid, combo in combos.items():
        if sizes[combo] >= event.min_cell_size:
            shown[pid] = {f"profile_{a}": v for a, v in zip(asked, combo, strict=True)}
        else:
            shown[pid] = {f"profile_{a}": SUPPRESSED for a in asked}
    return shown


def profile_header(event: Event) -> list[str]:
    return [f"profile_{a}" for a in selectors.profile_keys(event_id=event.id)]


def ballot_rows(report: EventReport, *, with_profile: bool = False) -> Iterator[dict[str, Any]]:
    """One row per audience ballot and chosen option (a ranking: one per rank). Panel ballots are
    left out: a panel is a handful of named faculty. Free text only once a moderator approved it."""
    event = report.event
    polls = {p.poll.id: p for p in report.polls}
    labels = dict(Option.objects.filter(poll_id__in=polls).values_list("id", "label"))
    votes = list(
        Vote.objects.filter(poll_id__in=polls, participant__is_panelist=False)
        .order_by("poll_id", "participant_id")
        .values_list("id", "poll_id", "participant_id", "value_number", "value_text", "text_status", "confidence")
    )
    choices: dict[int, list[tuple[int | None, int]]] = {}
    for vote_id, option_id, rank in (
        VoteChoice.objects.filter(poll_id__in=polls, vote__participant__is_panelist=False)
        .order_by("vote_id", "rank", "option_id")
        .values_list("vote_id", "option_id", "rank")
    ):
        choices.setdefault(vote_id, []).append((rank, option_id))
    profiles = _profiles(event, {v[2] for v in votes}) if with_profile else {}
    names: dict[int, str] = {}
    for vote_id, poll_id, participant_id, number, text, status, confidence in votes:
        poll = polls[poll_id]
        name = names.get(participant_id) or names.setdefault(participant_id, pseudonym(event, participant_id))
        row = {
            **_base(poll),
            "record": "ballot",
            "participant": name,
            "number": "" if number is None else number,
            "text": text if text and status == AnswerStatus.APPROVED else "",
            "confidence": "" if confidence is None else confidence,
            **profiles.get(participant_id, {}),
        }
        picked = choices.get(vote_id) or [(None, None)]
        for rank, option_id in picked:
            yield {
                **row,
                "option_id": option_id or "",
                "option": labels.get(option_id, "") if option_id else "",
                "rank": rank or "",
            }


def summary_rows(report: EventReport) -> list[tuple[str, Any]]:
    event = report.event
    rows: list[tuple[str, Any]] = [
        ("Event", event.title),
        ("Join code", event.code),
        ("Date", (event.started_at or event.created_at).date().isoformat()),
        ("Status", "snapshot (event not ended)" if report.snapshot else "final"),
        ("Generated at", report.generated_at.isoformat(timespec="seconds")),
        ("Moderators", ", ".join(report.moderators)),
        ("Faculty panel", ", ".join(report.faculty)),
        ("Participants joined", report.joined),
        ("Panelists joined", report.panel_joined),
        ("Minimum cell size", report.min_cell_size),
    ]
    for poll in report.polls:
        rows.append((f"Voted: {poll.number} {poll.poll.question}", poll.total))
    return rows
