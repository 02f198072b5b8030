"""Optional profile questions an event may ask at join, and small-cell suppression of segments."""

from __future__ import annotations

from typing import Any

from polls.errors import DomainError

# The template every event can start from (new events in the admin, the demo, events that
# existed before questions were the organiser's: migration 0017). An event asks its own
# questions (ProfileQuestion rows), which may be these, edited ones or others.
BUILT_IN_QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "specialty",
        "label": "Specialty",
        "options": [
            "Medical oncology",
            "Hematology/oncology",
            "Hematology",
            "Radiation oncology",
            "Surgical oncology",
            "Pathology",
            "Nursing or advanced practice",
            "Pharmacy",
            "Other",
        ],
    },
    {
        "key": "setting",
        "label": "Practice setting",
        "options": ["Academic centre", "Community practice", "Non-academic hospital", "Other"],
    },
    {
        "key": "experience",
        "label": "Years in practice",
        "options": ["Under 5", "5 to 10", "11 to 20", "Over 20"],
    },
]
BUILT_IN_KEYS = [q["key"] for q in BUILT_IN_QUESTIONS]
BUILT_IN_CHOICES = [(q["key"], q["label"]) for q in BUILT_IN_QUESTIONS]
OTHER_SEGMENT = "other"
NOT_STATED = "not stated"
# Bounds of an organiser's question: what a phone's select and a segment card can show.
MAX_OPTIONS = 30
MAX_OPTION_LENGTH = 100


def built_in(keys: list[str]) -> list[dict[str, Any]]:
    """The built-in questions with these keys, in the template's order."""
    return [dict(q, options=list(q["options"])) for q in BUILT_IN_QUESTIONS if q["key"] in keys]


def clean_options(options: Any) -> list[str]:
    """An organiser's answer options: at least two, distinct, non-empty, of bounded length."""
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise DomainError("bad_request", "The options must be a list of texts.")
    cleaned = [" ".join(o.split()) for o in options]
    cleaned = [o for o in cleaned if o]
    if len(cleaned) < 2:
        raise DomainError("bad_request", "A profile question needs at least two answers to choose from.")
    if len(cleaned) > MAX_OPTIONS:
        raise DomainError("bad_request", f"A profile question offers at most {MAX_OPTIONS} answers.")
    if any(len(o) > MAX_OPTION_LENGTH for o in cleaned):
        raise DomainError("bad_request", f"An answer is at most {MAX_OPTION_LENGTH} characters long.")
    if len({o.casefold() for o in cleaned}) != len(cleaned):
        raise DomainError("bad_request", "Two answers are the same: offer each once.")
    if NOT_STATED in {o.casefold() for o in cleaned} or OTHER_SEGMENT in {o for o in cleaned}:
        # "not stated" and "other" are the names of the segments of skipped and merged answers.
        raise DomainError("bad_request", "“not stated” and “other” (lower case) name segments of their own.")
    return cleaned


def clean_answers(answers: Any, *, questions: list[dict[str, Any]]) -> dict[str, str]:
    """Keep only answers to questions the event asks, with one of the offered options."""
    if not isinstance(answers, dict):
        raise DomainError("bad_request", "answers must be an object.")
    asked = {q["key"]: q for q in questions}
    clean: dict[str, str] = {}
    for key, value in answers.items():
        question = asked.get(key)
        if question is None:
            raise DomainError("invalid_profile", f"{str(key)[:40]!r} is not asked in this event.")
        if value is None or value == "":
            continue  # skipping a question is always allowed
        if value not in question["options"]:
            raise DomainError("invalid_profile", f"Not an offered answer to {question['label']}.")
        clean[key] = value
    return clean


def suppress(segments: list[dict[str, Any]], *, k: int) -> list[dict[str, Any]]:
    """Merge every segment with fewer than k respondents into "other", complementarily.

    A lone small "other" could be recovered by subtracting the shown segments from the total,
    so the smallest shown segments join it until it reaches k. An "other" still under k keeps
    only its size (which the overall total reveals anyway), never its counts.
    """
    shown = sorted((s for s in segments if s["total"] >= k), key=lambda s: (-s["total"], s["segment"]))
    merged = [s for s in segments if s["total"] < k]
    while merged and sum(s["total"] for s in merged) < k and shown:
        merged.append(shown.pop())
    result = [dict(s) for s in shown]
    if merged:
        other: dict[str, Any] = {"segment": OTHER_SEGMENT, "total": sum(s["total"] for s in merged)}
        if "counts" in merged[0]:
            counts: dict[str, int] = {}
            for s in merged:
                for key, n in s["counts"].items():
                    counts[key] = counts.get(key, 0) + n
            other["counts"] = counts
        if other["total"] < k:
            other.pop("counts", None)
            other["suppressed"] = True
        result.append(other)
    return result
