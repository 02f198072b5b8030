"""The report's files: the complete CSV, the XLSX workbook and the PDF (from the page's HTML)."""

from __future__ import annotations

import csv
import io
import re

from polls.models import CreditClaim, Profession
from polls.reports import tables
from polls.reports.build import EventReport
from polls.reports.cells import safe_cell

PROFILE_WARNING = (
    "These ballot rows carry profile answers. Combined with other knowledge they may help to "
    "recognise a participant: share them only with people who need them. Answers whose combination "
    "fewer than the event's minimum cell size share are marked suppressed."
)


def _header(report: EventReport, with_profile: bool) -> list[str]:
    return tables.HEADER + (tables.profile_header(report.event) if with_profile else [])


def event_csv(report: EventReport, *, with_profile: bool = False) -> str:
    """Every poll's figures, then every audience ballot under its pseudonym; formula-safe cells."""
    header = _header(report, with_profile)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)

    def write(row: dict) -> None:
        writer.writerow([safe_cell(row.get(name, "")) for name in header])

    for poll in report.polls:
        for row in tables.poll_rows(poll):
            write(row)
    for row in tables.ballot_rows(report, with_profile=with_profile):
        write(row)
    return out.getvalue()


# The ballots sheet keeps only the columns a ballot row fills (a workbook cell costs far more than a CSV one).
BALLOT_COLUMNS = [
    "poll_id", "case", "question", "kind", "round", "participant", "option_id", "option", "rank", "number",
    "text", "confidence",
]  # fmt: skip
_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(text: str, used: set[str]) -> str:
    title = _SHEET_UNSAFE.sub(" ", text)[:28].strip() or "Poll"
    candidate, n = title, 2
    while candidate.lower() in used:
        candidate, n = f"{title[:25]} ({n})", n + 1
    used.add(candidate.lower())
    return candidate


def event_xlsx(report: EventReport, *, with_profile: bool = False) -> bytes:
    """A summary sheet, one sheet per poll (the CSV's rows of that poll) and the ballots sheet.
    Written row by row (openpyxl's write-only mode) so a large event stays within bounded memory."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    used: set[str] = set()

    def cells(values):
        # An empty value is no cell at all: the workbook stays smaller and is written faster.
        return [None if v == "" else safe_cell(v) for v in values]

    summary = workbook.create_sheet(_sheet_title("Summary", used))
    summary.append(cells(["Item", "Value"]))
    for label, value in tables.summary_rows(report):
        summary.append(cells([label, value]))
    if with_profile:
        summary.append(cells(["Warning", PROFILE_WARNING]))
    header = tables.HEADER
    for poll in report.polls:
        sheet = workbook.create_sheet(_sheet_title(f"Q{poll.number}", used))
        sheet.append(cells(header))
        for row in tables.poll_rows(poll):
            sheet.append(cells([row.get(name, "") for name in header]))
    ballots = workbook.create_sheet(_sheet_title("Ballots", used))
    header = BALLOT_COLUMNS + (tables.profile_header(report.event) if with_profile else [])
    ballots.append(cells(header))
    for row in tables.ballot_rows(report, with_profile=with_profile):
        ballots.append(cells([row.get(name, "") for name in header]))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


CLAIM_COLUMNS = ["claimed_at", "name", "email", "profession", "hours"]


def claims_csv(event) -> str:
    """One row per credit claim, read from the claims alone: no participant, ballot or answer."""
    professions = dict(Profession.choices)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CLAIM_COLUMNS)
    for claim in CreditClaim.objects.filter(event=event).order_by("claimed_at", "id"):
        row = [claim.claimed_at.isoformat(), claim.name, claim.email, professions.get(claim.profession), claim.hours]
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """WeasyPrint renders the report page's own HTML with its print styles. Nothing is fetched
    from the network: the page inlines its styles and charts, and other URLs are refused."""
    from weasyprint import HTML, URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=1)
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
