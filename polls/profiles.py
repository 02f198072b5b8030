"""Optional profile questions an event may ask at join, and small-cell suppression of segments."""

from __future__ import annotations

from typing import Any

from polls.errors import DomainError

# The organiser picks which of these an event asks (Event.profile_fields).
PROFILE_QUESTIONS: dict[str, dict[str, Any]] = {
    "specialty": {
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
    "setting": {
        "label": "Practice setting",
        "options": ["Academic centre", "Community practice", "Non-academic hospital", "Other"],
    },
    "experience": {
        "label": "Years in practice",
        "options": ["Under 5", "5 to 10", "11 to 20", "Over 20"],
    },
}
PROFILE_CHOICES = [(key, q["label"]) for key, q in PROFILE_QUESTIONS.items()]
OTHER_SEGMENT = "other"
NOT_STATED = "not stated"


def questions_payload(keys: list[str]) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": PROFILE_QUESTIONS[key]["label"], "options": PROFILE_QUESTIONS[key]["options"]}
        for key in keys
        if key in PROFILE_QUESTIONS
    ]


def clean_answers(answers: Any, *, asked: list[str]) -> dict[str, str]:
    """Keep only answers to questions the event asks, with one of the offered options."""
    if not isinstance(answers, dict):
        raise DomainError("bad_request", "answers must be an object.")
    clean: dict[str, str] = {}
    for key, value in answers.items():
        if key not in asked or key not in PROFILE_QUESTIONS:
            raise DomainError("invalid_profile", f"{str(key)[:40]!r} is not asked in this event.")
        if value is None or value == "":
            continue  # skipping a question is always allowed
        if value not in PROFILE_QUESTIONS[key]["options"]:
            raise DomainError("invalid_profile", f"Not an offered answer to {PROFILE_QUESTIONS[key]['label']}.")
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
