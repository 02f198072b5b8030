"""What a valid ballot is for each kind of poll: validation against the poll, nothing stored here."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from polls.errors import DomainError
from polls.models import MAX_TEXT_LENGTH, NUMERIC_LIMIT, Poll, PollKind


@dataclass(frozen=True)
class Ballot:
    """A participant's answer as sent; `options` keeps order (ranking)."""

    options: tuple[int, ...] = ()
    value: float | None = None
    text: str | None = None
    confidence: int | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"options": list(self.options)}
        if self.value is not None:
            data["value"] = self.value
        if self.text is not None:
            data["text"] = self.text
        if self.confidence is not None:
            data["confidence"] = self.confidence
        return data


@dataclass(frozen=True)
class CleanBallot:
    ballot: Ballot
    ranks: dict[int, int] = field(default_factory=dict)


def _clean_text(text: str) -> str:
    # Normalise and strip control characters; what remains is shown to an audience.
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch == " ")
    return " ".join(text.split())


def validate(poll: Poll, ballot: Ballot, option_ids: set[int]) -> CleanBallot:
    """Check a ballot against its poll's kind and settings; raises DomainError with a stable code."""
    kind = poll.kind
    if poll.ask_confidence:
        if ballot.confidence is not None and not 1 <= ballot.confidence <= 5:
            raise DomainError("bad_request", "confidence must be a whole number from 1 to 5.")
    elif ballot.confidence is not None:
        raise DomainError("bad_request", "This poll does not ask for confidence.")

    if kind in (PollKind.NUMERIC, PollKind.TEXT):
        if ballot.options:
            raise DomainError("invalid_option", "This poll takes no options.")
    elif not ballot.options:
        raise DomainError("no_option")
    elif not set(ballot.options) <= option_ids:
        raise DomainError("invalid_option")

    if kind in (PollKind.SINGLE, PollKind.LIKERT):
        if len(ballot.options) != 1:
            raise DomainError("too_many_options", "Choose exactly one option.")
        return CleanBallot(Ballot(options=ballot.options, confidence=ballot.confidence))
    if kind == PollKind.MULTI:
        limit = poll.max_choices or len(option_ids)
        if len(ballot.options) > limit:
            raise DomainError("too_many_options", f"Choose at most {limit} options.")
        return CleanBallot(Ballot(options=tuple(sorted(ballot.options)), confidence=ballot.confidence))
    if kind == PollKind.RANKING:
        if len(ballot.options) != len(option_ids):
            raise DomainError("incomplete_ranking")
        ranks = {oid: position for position, oid in enumerate(ballot.options, start=1)}
        return CleanBallot(Ballot(options=ballot.options, confidence=ballot.confidence), ranks=ranks)
    if kind == PollKind.NUMERIC:
        value = finite_number(ballot.value)
        low, high = numeric_bounds(poll)
        if not low <= value <= high:
            raise DomainError("out_of_range", f"Answer between {_fmt(low)} and {_fmt(high)}.")
        return CleanBallot(Ballot(value=value, confidence=ballot.confidence))
    if kind == PollKind.TEXT:
        limit = min(poll.text_max_length, MAX_TEXT_LENGTH)
        if ballot.text is None:
            raise DomainError("invalid_value", "Send your answer as text.")
        # Whitespace and control characters do not count against the limit; the frame size bounds them.
        text = _clean_text(ballot.text)
        if len(text) > limit:
            raise DomainError("text_too_long", f"Answers are limited to {limit} characters.")
        if not text:
            raise DomainError("invalid_value", "The answer is empty.")
        return CleanBallot(Ballot(text=text, confidence=ballot.confidence))
    raise DomainError("bad_request", "Unknown poll kind.")


def finite_number(value) -> float:
    """The answer as a finite float; a 400-digit integer or Infinity is refused, not stored."""
    if value is None or isinstance(value, bool):
        raise DomainError("invalid_value", "Send a number as value.")
    try:
        number = float(value)
    except OverflowError:
        raise DomainError("out_of_range", f"Answers lie between {_fmt(-NUMERIC_LIMIT)} and {_fmt(NUMERIC_LIMIT)}.")
    except (TypeError, ValueError):
        raise DomainError("invalid_value", "Send a number as value.") from None
    if not math.isfinite(number):
        raise DomainError("invalid_value", "Send a number as value.")
    return number


def numeric_bounds(poll: Poll) -> tuple[float, float]:
    """The poll's range: the author's bounds, within ±NUMERIC_LIMIT; the limit where none is set.

    Read defensively: a bound written straight into the database is clamped, never trusted."""
    low = poll.numeric_min if poll.numeric_min is not None and math.isfinite(poll.numeric_min) else -NUMERIC_LIMIT
    high = poll.numeric_max if poll.numeric_max is not None and math.isfinite(poll.numeric_max) else NUMERIC_LIMIT
    low, high = max(low, -NUMERIC_LIMIT), min(high, NUMERIC_LIMIT)
    return (low, high) if low <= high else (high, low)


def _fmt(value: float) -> str:
    return f"{value:g}"
