"""The known event, replayed (polls/demo_replay.py): each figure is checked in the report page, its
PDF (text extracted with pdftotext), the complete CSV and the XLSX workbook, and each equals
what `selectors.poll_results` (the live screens' tally) says."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import subprocess

import pytest
from django.urls import reverse

from polls import selectors
from polls.demo_replay import BARRIERS, MONTHS, replay_demo
from polls.models import Participant, Poll
from polls.reports.tables import HEADER

pytestmark = pytest.mark.django_db

# What the room did, as the seed recap tells it and the replay plays it.
FIGURE_LINES = [
    # first question: 7 vs 3, with confidence and the panel of three
    "Refer for CAR T preferred 7 70.0% 4.29 (n=7) 3 (100.0%)",
    "Bispecific on a clinical trial 3 30.0% 2.67 (n=3) 0 (0.0%)",
    "Conventional doublet or triplet 0 0.0%",
    "7 of 10 participants chose it (concordance 70.0%)",
    "Agreement with the panel's majority: 7 of 10 participants (70.0%)",
    # second round: the shift and the transition matrix
    "Refer for CAR T preferred 9 90.0% 5.0 (n=9) +20.0 pts",
    "Bispecific on a clinical trial 1 10.0% 5.0 (n=1) -20.0 pts",
    "Refer for CAR T 70.0% 90.0%",
    "Bispecific on a clinical trial 30.0% 10.0%",
    "Refer for CAR T 7 0 0 0 Bispecific on a clinical trial 2 1 0 0",
    "2 of the 10 participants who answered both rounds changed their answer",
    # the rating scale: all ten very likely to refer
    "Very likely 10 100.0%",
    "Mean 5.0, median 5.0 on a scale of 1 to 5",
    # the number: months
    "10 (months) 6.4 6.0 3.0 12.0",
    # the ranking: Borda score and mean rank
    "1 Cilta-cel (CAR T) 27 1.3",
    "2 Talquetamab (GPRC5D bispecific) 18 2.2",
    "3 BCMA bispecific 11 2.9",
    "4 Belantamab combination 4 3.6",
    # attendance
    "Participants joined 10",
]
APPROVED = [text for text, approved in BARRIERS if approved]
NOT_SHOWN = [text for text, approved in BARRIERS if not approved]  # rejected or never reviewed
TEACHING_ORDER = [
    "Order of immunotherapies: IMWG guidance (2025)",
    "KarMMa-3: ide-cel against standard regimens",
    "CARTITUDE-4: cilta-cel from first relapse",
    "CAR T without REMS (FDA, June 2025)",
    "Preventing infection after CAR T",
]


@pytest.fixture
def replayed(client):
    replay = replay_demo()
    client.force_login(replay.event.moderators.get())
    return replay, client


def _flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def _page_text(body: str) -> str:
    body = re.sub(r"<(style|svg)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"</?(strong|em|span|a)\b[^>]*>", "", body)  # inline: no word break
    return _flat(html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _assert_figures(text: str) -> None:
    for line in FIGURE_LINES:
        assert line in text, line
    for answer in APPROVED:
        assert answer in text
    for answer in NOT_SHOWN:
        assert answer not in text
    positions = [text.index(title) for title in TEACHING_ORDER]
    assert positions == sorted(positions), "teaching points out of reveal order"
    assert "NCT03651128" in text and "NCT04181827" in text


def test_the_first_question_is_seven_against_three_in_the_one_tally(replayed):
    replay, _ = replayed
    results = selectors.poll_results(poll=Poll.objects.get(pk=replay.polls["first"].id))
    counts = sorted(results.moderator["counts"].values(), reverse=True)
    assert results.total == 10 and counts == [7, 3, 0, 0]


def test_the_report_page_shows_each_figure(replayed):
    replay, client = replayed
    response = client.get(reverse("event-report", kwargs={"code": replay.event.code}))
    assert response.status_code == 200
    text = _page_text(response.content.decode())
    _assert_figures(text)
    assert "Snapshot" not in text and "Final report" in text
    body = response.content.decode()
    assert body.count("<svg") >= 5  # a server-rendered chart per choice, ranking and number poll
    assert "7 · 70%" in body  # the chart writes its figure next to the bar


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_the_pdf_shows_each_figure(replayed, tmp_path):
    replay, client = replayed
    response = client.get(reverse("event-report-pdf", kwargs={"code": replay.event.code}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)
    text = _flat(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout)
    _assert_figures(text)


def _option_row(rows, poll: Poll, label: str) -> dict:
    return next(r for r in rows if r["record"] == "option" and r["poll_id"] == str(poll.id) and r["option"] == label)


def _stat(rows, poll: Poll, metric: str) -> str:
    found = (r for r in rows if r["record"] == "statistic" and r["poll_id"] == str(poll.id))
    return next(r["value"] for r in found if r["metric"] == metric)


def _same(actual, expected) -> bool:
    """A figure as the CSV writes it ("70.0") or as the workbook keeps it (the number 70)."""
    if isinstance(actual, tuple):
        return len(actual) == len(expected) and all(_same(a, e) for a, e in zip(actual, expected, strict=True))
    try:
        return float(actual) == float(expected)
    except ValueError:
        return actual == expected


def _check_rows(rows: list[dict], replay) -> None:
    """The same figures, read from the export's rows (CSV or one XLSX sheet after another)."""
    first, second = replay.polls["first"], replay.polls["second_round"]
    car_t = _option_row(rows, first, "Refer for CAR T")
    assert _same((car_t["audience_total"], car_t["audience_count"], car_t["audience_percent"]), ("10", "7", "70.0"))
    panel = (car_t["panel_count"], car_t["panel_total"], car_t["confidence_mean"], car_t["preferred"])
    assert _same(panel, ("3", "3", "4.29", "True"))
    trial = _option_row(rows, first, "Bispecific on a clinical trial")
    assert _same((trial["audience_count"], trial["audience_percent"], trial["confidence_mean"]), ("3", "30.0", "2.67"))
    assert _same(_stat(rows, first, "concordance_preferred_agreeing"), "7")
    assert _same(_stat(rows, first, "concordance_preferred_percent"), "70.0")
    assert _same(_option_row(rows, second, "Refer for CAR T")["shift_points"], "20.0")
    assert _same(_option_row(rows, second, "Bispecific on a clinical trial")["shift_points"], "-20.0")
    moves = {
        (r["option"], r["to_option"]): r["value"]
        for r in rows
        if r["record"] == "transition" and r["poll_id"] == str(second.id)
    }
    assert _same(moves[("Refer for CAR T", "Refer for CAR T")], "7")
    assert _same(moves[("Bispecific on a clinical trial", "Refer for CAR T")], "2")
    assert _same(moves[("Bispecific on a clinical trial", "Bispecific on a clinical trial")], "1")
    assert _same(_stat(rows, second, "transition_changed"), "2")
    likely = replay.polls["likely"]
    assert _same(_option_row(rows, likely, "Very likely")["audience_count"], "10")
    assert _same(_stat(rows, likely, "scale_mean"), "5.0")
    months = replay.polls["months"]
    stats = tuple(_stat(rows, months, m) for m in ("n", "mean", "median", "min", "max", "unit"))
    assert _same(stats, ("10", "6.4", "6.0", "3.0", "12.0", "months"))
    bins = [r["value"] for r in rows if r["record"] == "histogram" and r["poll_id"] == str(months.id)]
    assert sum(int(b) for b in bins) == len(MONTHS) and len(bins) == 10
    ranking = replay.polls["ranking"]
    cilta = _option_row(rows, ranking, "Cilta-cel (CAR T)")
    assert _same((cilta["borda"], cilta["mean_rank"]), ("27", "1.3"))
    assert _same(_option_row(rows, ranking, "Belantamab combination")["borda"], "4")
    barriers = replay.polls["barriers"]
    answers = {r["text"] for r in rows if r["record"] == "answer" and r["poll_id"] == str(barriers.id)}
    assert answers == set(APPROVED)


def _ballot_checks(ballots: list[dict], replay) -> None:
    first = replay.polls["first"]
    on_first = [b for b in ballots if b["poll_id"] == str(first.id)]
    assert len(on_first) == 10  # the audience only: the panel's three are not ballot rows
    assert sum(b["option"] == "Refer for CAR T" for b in on_first) == 7
    names = {b["participant"] for b in ballots}
    assert len(names) == 10 and all(re.fullmatch(r"P-[0-9a-f]{12}", n) for n in names)
    texts = {b["text"] for b in ballots if b["text"]}
    assert texts == set(APPROVED)
    ids = {str(p.id) for p in Participant.objects.filter(event=replay.event)}
    assert not names & ids


def test_the_csv_holds_each_figure_and_the_ballots(replayed):
    replay, client = replayed
    response = client.get(reverse("event-export", kwargs={"code": replay.event.code}))
    assert response.status_code == 200
    text = response.content.decode()
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == HEADER  # the first export's columns first, in their order
    rows = list(reader)
    _check_rows(rows, replay)
    _ballot_checks([r for r in rows if r["record"] == "ballot"], replay)
    assert "=HYPERLINK" not in text.replace("'=HYPERLINK", "")  # the rejected answer is nowhere, and never live


def test_the_xlsx_holds_each_figure_in_its_sheets(replayed):
    from openpyxl import load_workbook

    replay, client = replayed
    response = client.get(reverse("event-export-xlsx", kwargs={"code": replay.event.code}))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    names = book.sheetnames
    assert names[0] == "Summary" and names[-1] == "Ballots" and len(names) == 2 + 6

    def sheet_rows(name: str) -> list[dict]:
        values = list(book[name].iter_rows(values_only=True))
        header = [str(h) for h in values[0]]
        padded = [list(row) + [None] * (len(header) - len(row)) for row in values[1:]]  # empty cells are absent
        return [{k: "" if v is None else str(v) for k, v in zip(header, row, strict=False)} for row in padded]

    summary = dict((row[0], row[1]) for row in book["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary["Participants joined"] == 10 and summary["Status"] == "final"
    rows = [row for name in names[1:-1] for row in sheet_rows(name)]
    _check_rows(rows, replay)
    _ballot_checks(sheet_rows("Ballots"), replay)
