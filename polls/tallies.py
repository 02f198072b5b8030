"""Result aggregation per poll kind, read from the vote rows (the source of truth)."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Sum

from polls.ballots import numeric_bounds
from polls.models import AnswerStatus, Poll, PollKind, Vote, VoteChoice

MAX_ANSWERS_LISTED = 300
MAX_CLOUD_WORDS = 40
HISTOGRAM_BINS = 10
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers him his how i if in into is it its just me more most my no nor not now of off on once only or other our
    out over own same she should so some such than that the their them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with would you your
    yours also may might must would shall per vs via""".split()
)
WORD = re.compile(r"[^\W\d_][\w+\-]*", re.UNICODE)
# Clinical terms of several words, counted as one in the cloud whatever their case or hyphens
# ("car-t", "CAR T" are both "CAR T"), so the cloud never shows "car".
CLOUD_TERMS = (
    "CAR T", "T cell", "T cells", "stem cell", "stem cells", "bone marrow", "clinical trial", "clinical trials",
    "cell therapy", "side effects", "standard of care", "quality of life", "performance status",
)  # fmt: skip
TERM = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(t).replace(r"\ ", r"[\s\-]+") for t in sorted(CLOUD_TERMS, key=len, reverse=True))
    + r")(?![\w-])",
    re.IGNORECASE,
)
CANONICAL_TERMS = {t.lower(): t for t in CLOUD_TERMS}


def _cloud_word(word: str) -> str:
    """Abbreviations keep their capitals (BCMA, GPRC5D, ASCT); other words are lower-cased."""
    return word if len(word) > 1 and word.upper() == word and any(c.isalpha() for c in word) else word.lower()


@dataclass(frozen=True)
class Tally:
    total: int
    public: dict[str, Any]  # shown to the audience once results are revealed
    moderator: dict[str, Any]


def _round(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def audience_votes(poll: Poll, *, panel: bool = False):
    """Ballots of the audience (or of the panel): the two are never counted together."""
    return Vote.objects.filter(poll_id=poll.id, participant__is_panelist=panel)


def audience_choices(poll: Poll, *, panel: bool = False):
    return VoteChoice.objects.filter(poll_id=poll.id, vote__participant__is_panelist=panel)


def choice_counts(poll: Poll, option_ids: list[int], *, panel: bool = False) -> dict[int, int]:
    counts = dict.fromkeys(option_ids, 0)
    rows = audience_choices(poll, panel=panel).values_list("option_id").annotate(n=Count("id"))
    counts.update(dict(rows))
    return counts


def _scale_stats(counts: dict[int, int], option_ids: list[int]) -> dict[str, Any]:
    """Mean and median on the scale, the first option being point 1."""
    values = []
    for point, oid in enumerate(option_ids, start=1):
        values.extend([point] * counts.get(oid, 0))
    if not values:
        return {"mean": None, "median": None, "points": len(option_ids)}
    return {"mean": _round(statistics.fmean(values)), "median": statistics.median(values), "points": len(option_ids)}


def _ranking(poll: Poll, option_ids: list[int]) -> list[dict[str, Any]]:
    n = len(option_ids)
    rows = {
        r["option_id"]: r
        for r in audience_choices(poll)
        .values("option_id")
        .annotate(k=Count("id"), rank_sum=Sum("rank"), mean_rank=Avg("rank"))
    }
    ranking = []
    for oid in option_ids:
        row = rows.get(oid)
        # Borda: first place earns n-1 points, last place 0.
        borda = (n * row["k"] - row["rank_sum"]) if row else 0
        ranking.append({"option": oid, "mean_rank": _round(row["mean_rank"]) if row else None, "borda": borda})
    ranking.sort(key=lambda r: (-r["borda"], r["mean_rank"] or n + 1))
    return ranking


def _confidence(poll: Poll) -> dict[str, Any]:
    if poll.kind in (PollKind.NUMERIC, PollKind.TEXT):
        row = audience_votes(poll).filter(confidence__isnull=False).aggregate(mean=Avg("confidence"), n=Count("id"))
        return {"all": {"mean": _round(row["mean"]), "n": row["n"]}}
    rows = (
        audience_choices(poll)
        .filter(vote__confidence__isnull=False)
        .values("option_id")
        .annotate(mean=Avg("vote__confidence"), n=Count("id"))
    )
    return {str(r["option_id"]): {"mean": _round(r["mean"]), "n": r["n"]} for r in rows}


def _numeric(poll: Poll) -> dict[str, Any]:
    low, high = numeric_bounds(poll)
    # Only answers within the poll's range count, read defensively: a value written into the
    # database by other means (or before bounds existed) can neither overflow a sum nor stop an event.
    stored = audience_votes(poll).filter(value_number__isnull=False).values_list("value_number", flat=True)
    values = sorted(v for v in stored if math.isfinite(v) and low <= v <= high)
    if not values:
        return {
            "n": 0,
            "median": None,
            "mean": None,
            "min": None,
            "max": None,
            "histogram": [],
            "unit": poll.numeric_unit,
        }
    # The histogram spans the author's range where set, else the data's.
    low = poll.numeric_min if poll.numeric_min is not None and math.isfinite(poll.numeric_min) else values[0]
    high = poll.numeric_max if poll.numeric_max is not None and math.isfinite(poll.numeric_max) else values[-1]
    bins = HISTOGRAM_BINS if high > low else 1
    width = (high - low) / bins if high > low else 1
    counts = [0] * bins
    for value in values:
        index = min(int((value - low) / width), bins - 1) if high > low else 0
        counts[max(index, 0)] += 1
    histogram = [
        {"from": _round(low + i * width, 4), "to": _round(low + (i + 1) * width if high > low else high, 4), "count": c}
        for i, c in enumerate(counts)
    ]
    return {
        "n": len(values),
        "median": statistics.median(values),
        # fsum over at most a few thousand values within ±NUMERIC_LIMIT cannot overflow.
        "mean": _round(math.fsum(values) / len(values)),
        "min": values[0],
        "max": values[-1],
        "histogram": histogram,
        "unit": poll.numeric_unit,
    }


def word_cloud(texts: list[str]) -> list[dict[str, Any]]:
    words: Counter[str] = Counter()
    for text in texts:
        for match in TERM.finditer(text):
            words[CANONICAL_TERMS[re.sub(r"[\s\-]+", " ", match.group(0)).lower()]] += 1
        for word in WORD.findall(TERM.sub(" ", text)):
            if len(word) > 1 and word.lower() not in STOP_WORDS:
                words[_cloud_word(word)] += 1
    return [{"word": w, "count": c} for w, c in words.most_common(MAX_CLOUD_WORDS)]


def _text(poll: Poll) -> tuple[dict[str, Any], dict[str, Any]]:
    rows = list(
        audience_votes(poll)
        .exclude(value_text="")
        .order_by("-updated_at", "-id")
        .values_list("id", "value_text", "text_status")[:MAX_ANSWERS_LISTED]
    )
    approved = [(vid, text) for vid, text, status in rows if status == AnswerStatus.APPROVED]
    cloud = word_cloud([text for _, text in approved])
    public = {"answers": [{"id": vid, "text": text} for vid, text in approved], "words": cloud}
    moderator = {
        "answers": [{"id": vid, "text": text, "status": status} for vid, text, status in rows],
        "words": cloud,
        "pending": sum(1 for _, _, status in rows if status == AnswerStatus.PENDING),
    }
    return public, moderator


def audience_totals(poll_ids) -> dict[int, int]:
    """How many audience members answered each poll: a tally's `total`, and a vote's ack's."""
    rows = (
        Vote.objects.filter(poll_id__in=poll_ids, participant__is_panelist=False)
        .order_by()
        .values_list("poll_id")
        .annotate(n=Count("id"))
    )
    return {poll_id: 0 for poll_id in poll_ids} | dict(rows)


def tally(poll: Poll) -> Tally:
    """The audience's counts and the statistics of the poll's kind (polls.selectors.poll_results
    adds the panel, rounds and profile splits: that is what every reader gets)."""
    option_ids = [o.id for o in poll.options.all()]
    total = audience_totals([poll.id])[poll.id]
    detail: dict[str, Any] = {}
    moderator_extra: dict[str, Any] = {}
    if poll.kind in (PollKind.SINGLE, PollKind.MULTI, PollKind.LIKERT, PollKind.RANKING):
        counts = choice_counts(poll, option_ids)
        detail["counts"] = {str(k): v for k, v in counts.items()}
        if poll.kind == PollKind.LIKERT:
            detail["scale"] = _scale_stats(counts, option_ids)
        if poll.kind == PollKind.RANKING:
            detail["ranking"] = _ranking(poll, option_ids)
    elif poll.kind == PollKind.NUMERIC:
        detail["numeric"] = _numeric(poll)
    elif poll.kind == PollKind.TEXT:
        public_text, moderator_text = _text(poll)
        moderator_extra = {**detail, **moderator_text}
        detail.update(public_text)
    if poll.ask_confidence:
        detail["confidence"] = _confidence(poll)
        if moderator_extra:
            moderator_extra["confidence"] = detail["confidence"]
    return Tally(total=total, public=detail, moderator={**detail, **moderator_extra})
