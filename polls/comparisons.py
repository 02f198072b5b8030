"""Did the discussion change minds? Rounds and transitions, segments by profile, panel versus audience."""

from __future__ import annotations

from typing import Any

from django.db.models import Case as DbCase
from django.db.models import CharField, Count, Q, Value, When
from django.db.models.fields.json import KeyTextTransform

from polls.models import Poll, PollKind, PollState, ProfileQuestion
from polls.profiles import NOT_STATED, suppress
from polls.tallies import audience_choices, audience_votes, choice_counts

CHOICE_KINDS = (PollKind.SINGLE, PollKind.MULTI, PollKind.LIKERT, PollKind.RANKING)
ROUND_KINDS = (PollKind.SINGLE, PollKind.LIKERT)


def _percent(n: int, total: int) -> float:
    return round(100 * n / total, 1) if total else 0.0


# ------------------------------------------------------------------ segments


def _segment_of(poll: Poll, attribute: str, participant: str):
    """A ballot's segment: the profile answer of a participant who had joined and answered before
    the poll opened; "not stated" for everyone else, so that segments still add up to the total
    (an excluded remainder would be a complement) and sessions made up after the poll opened
    cannot lift a small cell over k."""
    opened = poll.opened_at
    settled = Q(**{f"{participant}__joined_at__lt": opened}) & (
        Q(**{f"{participant}__profile_set_at__isnull": True}) | Q(**{f"{participant}__profile_set_at__lt": opened})
    )
    # KT() cannot follow a relation to the JSON field; KeyTextTransform over the path can.
    return DbCase(
        When(settled, then=KeyTextTransform(attribute, f"{participant}__profile")),
        default=Value(None),
        output_field=CharField(),
    )


def segments(poll: Poll, attribute: str, *, k: int) -> list[dict[str, Any]]:
    """Audience results split by one profile attribute, small cells merged into "other"."""
    totals = {
        row["segment"]: row["n"]
        for row in audience_votes(poll)
        .annotate(segment=_segment_of(poll, attribute, "participant"))
        .values("segment")
        .annotate(n=Count("id"))
    }
    counts: dict[Any, dict[str, int]] = {}
    if poll.kind in CHOICE_KINDS:
        option_ids = [str(o.id) for o in poll.options.all()]
        rows = (
            audience_choices(poll)
            .annotate(segment=_segment_of(poll, attribute, "vote__participant"))
            .values("segment", "option_id")
            .annotate(n=Count("id"))
        )
        for row in rows:
            counts.setdefault(row["segment"], dict.fromkeys(option_ids, 0))[str(row["option_id"])] = row["n"]
    found = []
    for segment, total in totals.items():
        entry: dict[str, Any] = {"segment": segment or NOT_STATED, "total": total}
        if poll.kind in CHOICE_KINDS:
            entry["counts"] = counts.get(segment, dict.fromkeys(option_ids, 0))
        found.append(entry)
    return suppress(found, k=k)


def segments_by_attribute(
    poll: Poll, attributes: list[str] | None = None, *, k: int
) -> dict[str, list[dict[str, Any]]]:
    """The poll split by these of its event's profile questions (all of them if None). Splits
    appear once the poll is closed, for moderators and the room alike: a split that moved with
    every ballot would give away each new voter's answer by the difference of two frames."""
    if poll.state != PollState.CLOSED or poll.opened_at is None:
        return {}
    asked = ProfileQuestion.objects.filter(event_id=poll.event_id).values_list("key", flat=True)
    return {a: segments(poll, a, k=k) for a in asked if attributes is None or a in attributes}


# --------------------------------------------------------- panel versus audience


def panel_and_concordance(poll: Poll, audience_total: int, *, k: int) -> dict[str, Any]:
    """The panel's counts and the share of the audience agreeing with the preferred or panel answer.

    The panel is a cell like any other: under k panelists, only its size is shown (and no panel
    majority), or a lone panelist's vote would be on the screen."""
    if poll.kind not in CHOICE_KINDS:
        return {}
    option_ids = [o.id for o in poll.options.all()]
    panel_total = audience_votes(poll, panel=True).count()
    result: dict[str, Any] = {}
    panel_majority: set[int] = set()
    if panel_total and panel_total < k:
        result["panel"] = {"total": panel_total, "suppressed": True}
    elif panel_total:
        panel = choice_counts(poll, option_ids, panel=True)
        top = max(panel.values())
        panel_majority = {oid for oid, n in panel.items() if n == top and n > 0}
        result["panel"] = {"total": panel_total, "counts": {str(k): v for k, v in panel.items()}}
    preferred = set(poll.options.filter(is_preferred=True).values_list("id", flat=True))
    concordance: dict[str, Any] = {}
    for name, targets in (("preferred", preferred), ("panel_majority", panel_majority)):
        if targets and audience_total:
            agreeing_votes = audience_votes(poll).filter(choices__option_id__in=targets)
            if poll.kind == PollKind.MULTI:
                # Multiple choice agrees only when every ticked option is one of the answers: a ballot
                # that also ticked another is not "chose the preferred answer".
                agreeing_votes = agreeing_votes.exclude(choices__option_id__in=set(option_ids) - targets)
            agreeing = agreeing_votes.distinct().count()
            concordance[name] = {"share": round(agreeing / audience_total, 3), "agreeing": agreeing}
    if concordance:
        result["concordance"] = concordance
    return result


# ------------------------------------------------------------ rounds


def round_series(poll: Poll) -> list[Poll]:
    root_id = poll.round_of_id or poll.id
    return list(Poll.objects.filter(pk=root_id).prefetch_related("options")) + list(
        Poll.objects.filter(round_of_id=root_id).order_by("round_number", "id").prefetch_related("options")
    )


def _final_choice(poll: Poll) -> dict[int, int]:
    """Each audience participant's recorded answer (changes within a round keep only the last)."""
    return dict(audience_choices(poll).values_list("vote__participant_id", "option_id"))


def transitions(before: Poll, after: Poll) -> dict[str, Any]:
    """How many participants moved from each answer to each other, counting only those in both rounds."""
    first, second = _final_choice(before), _final_choice(after)
    both = first.keys() & second.keys()
    before_ids = [o.id for o in before.options.all()]
    after_ids = [o.id for o in after.options.all()]
    matrix = [[0] * len(after_ids) for _ in before_ids]
    row_of = {oid: i for i, oid in enumerate(before_ids)}
    column_of = {oid: i for i, oid in enumerate(after_ids)}
    for participant in both:
        if first[participant] in row_of and second[participant] in column_of:
            matrix[row_of[first[participant]]][column_of[second[participant]]] += 1
    changed = sum(n for i, row in enumerate(matrix) for j, n in enumerate(row) if i != j)
    return {
        "from_poll": before.id,
        "to_poll": after.id,
        "from_options": before_ids,
        "to_options": after_ids,
        "matrix": matrix,
        "participants": len(both),
        "changed": changed,
    }


def rounds_detail(poll: Poll, *, revealed_only: bool = False) -> dict[str, Any]:
    """Every round of the poll's question side by side, the shift in points, and the transitions.

    With `revealed_only` (what the audience may see) a later round whose results are hidden is
    left out: re-revealing round 1 while round 2 is open and hidden must not carry round 2's counts
    to the room. Earlier rounds stay: revealing round 2 is revealing how the room moved to it.
    """
    if poll.kind not in ROUND_KINDS:
        return {}
    series = [p for p in round_series(poll) if p.state != PollState.DRAFT or p.id == poll.id]
    if revealed_only:
        series = [p for p in series if p.round_number <= poll.round_number or p.results_visible]
    if len(series) < 2:
        return {}
    rounds = []
    for p in series:
        option_ids = [o.id for o in p.options.all()]
        total = audience_votes(p).count()
        counts = choice_counts(p, option_ids)
        rounds.append(
            {
                "poll": p.id,
                "round": p.round_number,
                "total": total,
                "counts": {str(k): v for k, v in counts.items()},
                "counts_in_order": [counts[oid] for oid in option_ids],
                "percent": [_percent(counts[oid], total) for oid in option_ids],
            }
        )
    for previous, current in zip(rounds, rounds[1:], strict=False):
        current["shift"] = [round(b - a, 1) for a, b in zip(previous["percent"], current["percent"], strict=False)]
    index = next(i for i, p in enumerate(series) if p.id == poll.id)
    detail: dict[str, Any] = {"rounds": rounds}
    if index > 0:
        detail["transitions"] = transitions(series[index - 1], poll)
    return detail
