"""The organisers' export: every poll's numbers, with the same small-cell suppression as the screens.

The complete export is built by `polls.reports` (the report's figures as rows, then the ballots under
pseudonyms); this module keeps the first export's entry points and its formula-safe cells.
"""

from __future__ import annotations

from polls.models import Event
from polls.reports import build, files
from polls.reports.cells import FORMULA_STARTS, safe_cell
from polls.reports.tables import HEADER, LEGACY_HEADER

__all__ = ["FORMULA_STARTS", "HEADER", "LEGACY_HEADER", "event_csv", "safe_cell"]


def event_csv(event: Event, *, with_profile: bool = False) -> str:
    """One row per poll and option (the first export's columns first), every figure of each poll's
    kind, the suppressed profile segments, then one row per audience ballot under a pseudonym."""
    return files.event_csv(build.event_report(event=event), with_profile=with_profile)
