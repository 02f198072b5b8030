"""The organisers' export: every poll's numbers, with the same small-cell suppression as the screens."""

from __future__ import annotations

import csv
import io
from datetime import UTC

from polls import selectors
from polls.models import Event, Poll

HEADER = [
    "poll_id", "case", "question", "kind", "round", "state", "option_id", "option", "preferred",
    "audience_total", "audience_count", "audience_percent", "panel_count",
    "segment_attribute", "segment", "segment_total", "segment_count",
]  # fmt: skip


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A text cell a spreadsheet would run as a formula is kept as text (OWASP: CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose every text cell goes through safe_cell: authors and participants write them."""

    def __init__(self, out) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])


def _percent(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}" if total else ""


def event_csv(event: Event) -> str:
    """One row per poll and option, then one per poll, option and (suppressed) profile segment."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(HEADER)
    polls = Poll.objects.filter(event=event).select_related("case").prefetch_related("options")
    for poll in polls.order_by("case_id", "position", "round_number", "id"):
        options = list(poll.options.all())
        results = selectors.poll_results(poll=poll)
        total = results.total
        counts = results.moderator.get("counts", {})
        panel = results.moderator.get("panel", {}).get("counts")  # None: no panel, or under k
        base = [poll.id, poll.case.title, poll.question, poll.kind, poll.round_number, poll.state]
        for option in options:
            count = counts.get(str(option.id), 0)
            panel_count = "" if panel is None else panel.get(str(option.id), 0)
            writer.writerow(
                [*base, option.id, option.label, option.is_preferred, total, count, _percent(count, total),
                 panel_count, "", "", "", ""]
            )  # fmt: skip
        if not options:
            writer.writerow([*base, "", "", "", total, "", "", "", "", "", "", ""])
        for attribute, rows in results.moderator.get("segments", {}).items():
            for row in rows:
                for option in options or [None]:
                    count = "" if option is None or "counts" not in row else row["counts"].get(str(option.id), 0)
                    writer.writerow(
                        [*base, option.id if option else "", option.label if option else "", "", "", "", "", "",
                         attribute, row["segment"], row["total"], count]
                    )  # fmt: skip
    return out.getvalue()


QUESTIONS_HEADER = ["id", "state", "text", "name", "votes", "pinned", "answered", "merged_into", "asked_at"]


def questions_csv(event: Event) -> str:
    """Every audience question of the event, in the room's order (participants wrote the text and
    names: every cell goes through safe_cell)."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(QUESTIONS_HEADER)
    for q in selectors.event_questions(event_id=event.id).for_moderator():
        writer.writerow(
            [q.id, q.state, q.text, q.name, q.votes, q.pinned, q.answered, q.merged_into or "",
             q.created_at.astimezone(UTC).isoformat()]
        )  # fmt: skip
    return out.getvalue()
