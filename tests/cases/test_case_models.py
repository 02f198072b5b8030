"""The cases app's rows: what the database refuses, the order parts come back in, what a case takes with it."""

from __future__ import annotations

import pytest
from django.db import DataError, IntegrityError, transaction
from django.db.models import ProtectedError

from cases.models import Case, CaseFact, HistoryItem, Reference, StagingItem, TeachingPoint, TherapyLine
from tests.factories import build_world, make_case, make_teaching_point

pytestmark = pytest.mark.django_db


def refused(model, **fields) -> bool:
    """True when the database refuses the row (a constraint, or on PostgreSQL a value longer than its
    column), inside its own savepoint."""
    try:
        with transaction.atomic():
            model.objects.create(**fields)
    except (IntegrityError, DataError):
        return True
    return False


# --------------------------------------------------------------- the case


@pytest.mark.parametrize(
    ("field", "value", "is_refused"),
    [("ecog", 4, False), ("ecog", 5, True), ("patient_age", 120, False), ("patient_age", 121, True)],
)
def test_ecog_and_age_are_checked_by_the_database(field, value, is_refused):
    fields = dict(title="Bounds", disease="Myeloma", patient_age=70, patient_sex="male", diagnosis="MM")
    assert refused(Case, **{**fields, field: value}) is is_refused


def test_cases_are_listed_by_title_then_age_of_the_row():
    second = make_case(title="B case")
    first = make_case(title="A case")
    twin = make_case(title="A case")
    assert list(Case.objects.all()) == [first, twin, second]
    assert str(first) == "A case"


# ------------------------------------------------------------- therapy lines


def test_therapy_lines_come_back_in_line_order_whatever_order_they_were_entered():
    case = make_case()  # lines 1 (VRd) and 2 (DKd)
    TherapyLine.objects.create(case=case, line_number=4, regimen="Teclistamab")
    TherapyLine.objects.create(case=case, line_number=3, regimen="Ide-cel")
    assert [line.regimen for line in case.therapy_lines.all()] == ["VRd", "DKd", "Ide-cel", "Teclistamab"]
    assert [str(line) for line in case.therapy_lines.all()][:2] == ["Line 1: VRd", "Line 2: DKd"]


def test_a_line_number_is_used_once_per_case_only():
    case = make_case()  # lines 1 and 2
    assert refused(TherapyLine, case=case, line_number=2, regimen="Again")
    bare = Case.objects.create(title="No lines yet", disease="MM", patient_age=60, patient_sex="female", diagnosis="MM")
    assert not refused(TherapyLine, case=bare, line_number=2, regimen="Another case's second line")
    assert not refused(TherapyLine, case=case, line_number=3, regimen="The next line")


def test_agents_are_split_on_commas_and_blanks_dropped():
    line = TherapyLine(agents=" daratumumab, pomalidomide ,, dexamethasone, ")
    assert line.agent_list == ["daratumumab", "pomalidomide", "dexamethasone"]
    assert TherapyLine(agents="").agent_list == []


# ------------------------------------------------------------- ordered parts


@pytest.mark.parametrize(
    ("model", "related", "fields"),
    [
        (StagingItem, "staging", {"system": "R-ISS", "value": "II"}),
        (HistoryItem, "history", {"text": "Hypertension"}),
        (CaseFact, "facts", {"label": "Cytogenetics", "text": "t(4;14)"}),
        (TeachingPoint, "teaching_points", {"title": "KarMMa-3", "text": "Ide-cel"}),
    ],
)
def test_parts_of_a_case_come_back_by_position_then_entry(model, related, fields):
    case = make_case()
    late = model.objects.create(case=case, position=2, **fields)
    early = model.objects.create(case=case, position=1, **fields)
    tie = model.objects.create(case=case, position=1, **fields)
    assert list(getattr(case, related).all()) == [early, tie, late]


def test_a_fact_is_hidden_until_revealed_by_default():
    fact = CaseFact.objects.create(case=make_case(), label="New cytogenetics", text="del(17p)")
    assert fact.hidden_until_revealed is True and str(fact) == "New cytogenetics"


# ------------------------------------------------------------- references


@pytest.mark.parametrize(
    ("nct", "is_refused"),
    [
        ("", False),
        ("NCT03651128", False),
        ("NCT0365112", True),
        ("NCT036511280", True),
        ("nct03651128", True),
        ("03651128NCT", True),
    ],
)
def test_an_nct_number_is_empty_or_nct_and_eight_digits(nct, is_refused):
    point = make_teaching_point(make_case())
    assert refused(Reference, teaching_point=point, citation="Trial", nct=nct) is is_refused


@pytest.mark.parametrize(
    ("pmid", "is_refused"), [("", False), ("37272512", False), ("PMID37272512", True), ("3727 2512", True)]
)
def test_a_pmid_is_digits_only(pmid, is_refused):
    point = make_teaching_point(make_case())
    assert refused(Reference, teaching_point=point, citation="Paper", pmid=pmid) is is_refused


def test_references_of_a_point_come_back_by_position_and_read_as_their_citation():
    point = make_teaching_point(make_case())  # one reference at position 0: KarMMa-3
    long = Reference.objects.create(teaching_point=point, position=2, citation="x" * 200)
    first = Reference.objects.create(teaching_point=point, position=1, citation="CARTITUDE-4")
    assert [r.citation for r in point.references.all()][:2] == ["KarMMa-3", "CARTITUDE-4"]
    assert list(point.references.all())[1:] == [first, long]
    assert str(long) == "x" * 80


# ------------------------------------------------------------- deletion


def test_deleting_a_case_takes_its_parts_and_references_with_it():
    case = make_case()
    point = make_teaching_point(case)
    StagingItem.objects.create(case=case, system="R-ISS", value="II")
    CaseFact.objects.create(case=case, label="Labs", text="Creatinine 1.1")
    kept = make_case(title="Another")
    make_teaching_point(kept)
    case.delete()
    assert not TherapyLine.objects.filter(case_id=case.id).exists()
    assert not Reference.objects.filter(teaching_point_id=point.id).exists()
    assert not StagingItem.objects.exists() and not CaseFact.objects.exists()
    assert kept.therapy_lines.count() == 2 and Reference.objects.count() == 1


def test_a_case_with_polls_cannot_be_deleted():
    world = build_world()
    with pytest.raises(ProtectedError):
        world.case.delete()
    assert Case.objects.filter(pk=world.case.pk).exists()
