"""The report and outcomes pages, and their PDFs, in the reader's language (issue 18).

The reader's language comes from LocaleMiddleware (the language cookie here); numbers follow it
("70,0 %" in French, "4,29" in German); the cases' own text keeps its author's language, marked
with lang="…"; the PDF's footer is translated too."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from django.conf import settings
from django.urls import reverse

from polls.demo_replay import replay_demo

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


@pytest.fixture
def replayed(client):
    replay = replay_demo()
    client.force_login(replay.event.moderators.get())
    return replay, client


def _in(client, language: str) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language


def test_the_report_page_is_in_the_readers_language_with_the_case_in_its_own(replayed):
    replay, client = replayed
    _in(client, "fr")
    body = client.get(reverse("event-report", kwargs={"code": replay.event.code})).content.decode()
    assert re.search(r'<html lang="fr" dir="ltr">', body)
    assert "Rapport final, généré le" in body and "Final report" not in body
    assert f"70,0{NBSP}%" in body  # the first question's share, written the French way
    assert f"7 · 70{NBSP}%" in body  # the chart's figure too
    assert "4,29 (n=7)" in body  # a mean confidence: decimal comma
    case = replay.event.polls.get(round_of=None, position=1).case
    # The case's question stays in the author's language and says so; the labels around it do not.
    assert re.search(rf'<span lang="{case.language}">{re.escape(replay.polls["first"].question)}</span>', body)
    assert "<th>Question</th>" in body and "Cronología" not in body and "Chronologie" in body


def test_the_outcomes_page_follows_the_reader_too(replayed):
    replay, client = replayed
    _in(client, "de")
    body = client.get(reverse("event-outcomes", kwargs={"code": replay.event.code})).content.decode()
    assert '<html lang="de" dir="ltr">' in body
    assert "Stufe 1: Teilnahme" in body and "Level 1: Participation" not in body
    assert "10 Teilnehmende sind beigetreten" in body


def test_english_stays_the_default(replayed):
    replay, client = replayed
    body = client.get(reverse("event-report", kwargs={"code": replay.event.code})).content.decode()
    assert '<html lang="en" dir="ltr">' in body and "70.0%" in body


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_the_pdf_is_written_in_the_readers_language_down_to_its_footer(replayed, tmp_path):
    replay, client = replayed
    _in(client, "de")
    response = client.get(reverse("event-report-pdf", kwargs={"code": replay.event.code}))
    assert response.status_code == 200
    path = tmp_path / "bericht.pdf"
    path.write_bytes(response.content)
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout.split()
    )
    assert "Abschlussbericht, erstellt am" in text
    assert "Seite 1 von" in text and "Page 1 of" not in text
    assert "70,0 %" in text.replace(NBSP, " ")
