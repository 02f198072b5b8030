"""The patient-identifier guard (issue 16), measured on a synthetic set of clinical sentences.

tests/cases/data/identifiers.tsv holds sentences with identifiers of every Safe Harbor class the
guard covers, marked [[like this]], and sentences without any. Recall is the share of marked
identifiers that a finding covers at least in part (the author is then shown the place); the
false-positive rate is the share of identifier-free sentences with any finding. The README quotes
both, and this test keeps the quote true.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from cases.identifiers import KINDS, find_identifiers

DATA = Path(__file__).parent / "data" / "identifiers.tsv"
README = Path(__file__).resolve().parents[2] / "README.md"
MARK = re.compile(r"\[\[(.+?)\]\]")


@dataclass
class Measurement:
    found: Counter
    total: Counter
    flagged_clean: int
    clean: int
    missed: list[str]
    false_alarms: list[str]

    @property
    def recall(self) -> float:
        return sum(self.found.values()) / sum(self.total.values())

    @property
    def false_positive_rate(self) -> float:
        return self.flagged_clean / self.clean


def sentences() -> list[tuple[str, str, list[tuple[int, int]]]]:
    """(class, sentence without marks, identifier spans)."""
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, marked = line.split("\t")
        spans, plain, cursor = [], "", 0
        for match in MARK.finditer(marked):
            plain += marked[cursor : match.start()]
            spans.append((len(plain), len(plain) + len(match.group(1))))
            plain += match.group(1)
            cursor = match.end()
        plain += marked[cursor:]
        rows.append((kind, plain, spans))
    return rows


def measure() -> Measurement:
    found, total = Counter(), Counter()
    flagged_clean = clean = 0
    missed, false_alarms = [], []
    for kind, text, spans in sentences():
        findings = find_identifiers(text)
        if kind == "none":
            clean += 1
            if findings:
                flagged_clean += 1
                false_alarms.append(f"{text!r}: {[text[f.start : f.end] for f in findings]}")
            continue
        for start, end in spans:
            total[kind] += 1
            if any(f.start < end and start < f.end for f in findings):
                found[kind] += 1
            else:
                missed.append(f"{kind}: {text!r}")
    return Measurement(found, total, flagged_clean, clean, missed, false_alarms)


@pytest.fixture(scope="module")
def measurement() -> Measurement:
    return measure()


def test_the_set_covers_every_class_and_enough_clean_text(measurement):
    assert set(measurement.total) == set(KINDS)
    assert all(count >= 5 for count in measurement.total.values()), measurement.total
    assert measurement.clean >= 60


def test_recall_on_the_identifier_classes_is_at_least_95_percent(measurement):
    assert measurement.recall >= 0.95, measurement.missed


def test_clean_clinical_text_is_rarely_flagged(measurement):
    assert measurement.false_positive_rate <= 0.10, measurement.false_alarms


def test_the_readme_quotes_the_measured_figures(measurement):
    found, total = sum(measurement.found.values()), sum(measurement.total.values())
    quote = (
        f"recall {measurement.recall:.1%} ({found} of {total} identifiers), false-positive rate "
        f"{measurement.false_positive_rate:.1%} ({measurement.flagged_clean} of {measurement.clean} "
        "identifier-free sentences)"
    )
    assert quote in " ".join(README.read_text(encoding="utf-8").split()), quote  # wrapped lines joined


def test_the_example_from_the_issue_is_caught_whole():
    text = "John Smith, MRN 4471923, DOB 03/14/1928, phone 410-555-0182, a 97-year-old man."
    kinds = [finding.kind for finding in find_identifiers(text)]
    assert kinds == ["name", "record", "date", "phone", "age"]


def test_the_demo_case_text_is_clean():
    from polls import demo

    texts = [demo.CASE[key] for key in ("summary", "current_status", "clinical_question") if key in demo.CASE]
    texts += demo.HISTORY + [line["outcome"] for line in demo.THERAPY_LINES]
    for text in texts:
        assert find_identifiers(text) == [], text


def test_nothing_and_blank_text_have_no_findings():
    assert find_identifiers("") == [] and find_identifiers("   \n") == []


def test_warming_loads_the_recognizers_once_for_every_later_read():
    from cases import identifiers

    identifiers.warm()
    assert identifiers._recognizers.cache_info().currsize == 1
    identifiers.warm()
    assert identifiers._recognizers.cache_info().hits >= 1


@pytest.mark.django_db
def test_a_text_is_read_by_the_recognizers_once_and_its_findings_are_stored_without_it(monkeypatch):
    from cases import identifiers
    from cases.models import IdentifierScan

    text = "Call the daughter on 617-555-0142 before the next line."
    (first,) = identifiers.stored_findings([text])
    assert [f.kind for f in first] == ["phone"]
    stored = IdentifierScan.objects.get()
    assert "617" not in str(stored.findings) and text not in stored.digest  # kinds and positions only

    def no_recognizers(_text):
        raise AssertionError("read again")

    monkeypatch.setattr(identifiers, "find_identifiers", no_recognizers)
    assert identifiers.stored_findings([text, "", text]) == [first, [], first]
    with pytest.raises(AssertionError, match="read again"):
        identifiers.stored_findings([text + " Changed."])  # another text is read
    # A new guard version reads every text again.
    monkeypatch.setattr(identifiers, "GUARD_VERSION", identifiers.GUARD_VERSION + 1)
    with pytest.raises(AssertionError, match="read again"):
        identifiers.stored_findings([text])
