"""The organisers' export: every poll's numbers, with the same small-cell suppression as the screens.

The complete export is built by `polls.reports` (the report's figures as rows, then the ballots under
pseudonyms); this module keeps the first export's entry points and its formula-safe cells.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC

from polls import selectors
from polls.models import Event
from polls.reports import build, files
from polls.reports.cells import FORMULA_STARTS, safe_cell
from polls.reports.tables import HEADER, LEGACY_HEADER

__all__ = ["FORMULA_STARTS", "HEADER", "LEGACY_HEADER", "QUESTIONS_HEADER", "event_csv", "questions_csv", "safe_cell"]


def event_csv(event: Event, *, with_profile: bool = False) -> str:
    """One row per poll and option (the first export's columns first), every figure of each poll's
    kind, the suppressed profile segments, then one row per audience ballot under a pseudonym."""
    return files.event_csv(build.event_report(event=event), with_profile=with_profile)


QUESTIONS_HEADER = ["id", "state", "text", "name", "votes", "pinned", "answered", "merged_into", "asked_at"]


def questions_csv(event: Event) -> str:
    """Every audience question of the event, in the room's order (participants wrote the text and
    names: every cell goes through safe_cell)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(QUESTIONS_HEADER)
    for q in selectors.event_questions(event_id=event.id).for_moderator():
        row = [q.id, q.state, q.text, q.name, q.votes, q.pinned, q.answered, q.merged_into or "",
               q.created_at.astimezone(UTC).isoformat()]  # fmt: skip
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
