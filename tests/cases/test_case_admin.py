"""Authoring cases in the admin: a case's parts inline and in order, teaching points with their references."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Case, Reference, TeachingPoint, TherapyLine
from tests.factories import make_case, make_teaching_point

pytestmark = pytest.mark.django_db

# The inline formsets of the case page, by prefix (their related names), empty.
CASE_INLINES = ("staging", "history", "therapy_lines", "facts", "teaching_points", "images")
CASE = {
    "title": "Case Summary 3",
    "disease": "Multiple myeloma",
    "diagnosis": "IgA-kappa multiple myeloma",
    "patient_age": "64",
    "patient_sex": "female",
    "years_since_diagnosis": "3",
    "ecog": "1",
    "current_status": "",
    "clinical_question": "",
}


@pytest.fixture(autouse=True)
def _no_static_root_warning(settings):
    # pytest-django runs with DEBUG off: WhiteNoise serves from the finders instead of a collected STATIC_ROOT.
    settings.WHITENOISE_AUTOREFRESH = True


def formset(prefix: str, rows: list[dict] = (), initial: int = 0) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial)}
    data |= {f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        data |= {f"{prefix}-{i}-{key}": value for key, value in row.items()}
    return data


def case_form(**inlines) -> dict:
    data = dict(CASE)
    for prefix in CASE_INLINES:
        data |= formset(prefix, inlines.get(prefix, []))
    return data


def test_a_case_is_added_with_its_therapy_lines_in_one_page(admin_client):
    lines = [
        {"line_number": "2", "regimen": "DPd", "agents": "daratumumab, pomalidomide, dexamethasone"},
        {"line_number": "1", "regimen": "VRd", "agents": "bortezomib, lenalidomide, dexamethasone"},
    ]
    response = admin_client.post(reverse("admin:cases_case_add"), case_form(therapy_lines=lines))
    assert response.status_code == 302, response.context["adminform"].form.errors
    case = Case.objects.get(title="Case Summary 3")
    assert [(line.line_number, line.regimen) for line in case.therapy_lines.all()] == [(1, "VRd"), (2, "DPd")]
    assert case.therapy_lines.get(line_number=2).agent_list == ["daratumumab", "pomalidomide", "dexamethasone"]


def test_two_lines_with_one_number_are_refused_and_nothing_is_saved(admin_client):
    lines = [{"line_number": "1", "regimen": "VRd"}, {"line_number": "1", "regimen": "KRd"}]
    response = admin_client.post(reverse("admin:cases_case_add"), case_form(therapy_lines=lines))
    assert response.status_code == 200
    errors = " ".join(str(e) for e in response.context["inline_admin_formsets"][2].formset.non_form_errors())
    assert "duplicate" in errors.lower()
    assert not Case.objects.filter(title="Case Summary 3").exists() and not TherapyLine.objects.filter(regimen="KRd")


def test_an_ecog_above_four_is_refused_on_the_form(admin_client):
    response = admin_client.post(reverse("admin:cases_case_add"), {**case_form(), "ecog": "5"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Case.objects.filter(title="Case Summary 3").exists()


def test_the_case_page_shows_its_lines_in_order_and_links_each_teaching_point(admin_client):
    case = make_case()
    TherapyLine.objects.create(case=case, line_number=3, regimen="Ide-cel")
    point = make_teaching_point(case)
    response = admin_client.get(reverse("admin:cases_case_change", args=[case.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert content.index("VRd") < content.index("DKd") < content.index("Ide-cel")
    assert reverse("admin:cases_teachingpoint_change", args=[point.pk]) in content  # references are edited there


def test_a_teaching_point_page_renders_its_references_in_order(admin_client):
    point = make_teaching_point(make_case())  # KarMMa-3, NCT03651128, at position 0
    Reference.objects.create(teaching_point=point, position=1, citation="CARTITUDE-4", nct="NCT04181827")
    response = admin_client.get(reverse("admin:cases_teachingpoint_change", args=[point.pk]))
    assert response.status_code == 200
    formset = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "references")
    rows = [(form.instance.citation, form.instance.nct) for form in formset.formset.forms if form.instance.pk]
    assert rows == [("KarMMa-3", "NCT03651128"), ("CARTITUDE-4", "NCT04181827")]
    content = response.content.decode()
    assert content.index('value="NCT03651128"') < content.index('value="NCT04181827"')


def test_references_are_saved_with_their_identifiers_and_a_bare_domain_gets_https(admin_client):
    point = make_teaching_point(make_case())
    existing = point.references.get()
    data = {"case": str(point.case_id), "position": "0", "title": point.title, "text": point.text}
    data |= formset(
        "references",
        [
            {"id": str(existing.pk), "teaching_point": str(point.pk), "position": "0", "citation": existing.citation,
             "nct": existing.nct, "pmid": "", "doi": "", "url": ""},
            {"position": "1", "citation": "Munshi NC et al. NEJM 2021", "nct": "", "pmid": "33626253",
             "doi": "10.1056/NEJMoa2024850", "url": "www.nejm.org/doi/full/10.1056/NEJMoa2024850"},
        ],
        initial=1,
    )  # fmt: skip
    response = admin_client.post(reverse("admin:cases_teachingpoint_change", args=[point.pk]), data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    added = point.references.get(position=1)
    assert (added.pmid, added.doi) == ("33626253", "10.1056/NEJMoa2024850")
    assert added.url == "https://www.nejm.org/doi/full/10.1056/NEJMoa2024850"


def test_a_malformed_nct_number_is_refused_on_the_form(admin_client):
    point = make_teaching_point(make_case())
    existing = point.references.get()
    data = {"case": str(point.case_id), "position": "0", "title": point.title, "text": point.text}
    data |= formset(
        "references",
        [{"id": str(existing.pk), "teaching_point": str(point.pk), "position": "0", "citation": existing.citation,
          "nct": "NCT123", "pmid": "", "doi": "", "url": ""}],
        initial=1,
    )  # fmt: skip
    response = admin_client.post(reverse("admin:cases_teachingpoint_change", args=[point.pk]), data)
    assert response.status_code == 200
    assert Reference.objects.get(pk=existing.pk).nct == "NCT03651128"


def test_teaching_points_list_their_reference_count_and_sort_by_it(admin_client):
    case = make_case()
    many = make_teaching_point(case, title="Two references")
    Reference.objects.create(teaching_point=many, citation="Second")
    TeachingPoint.objects.create(case=case, title="No reference", text="-")
    url = reverse("admin:cases_teachingpoint_changelist")
    listed = admin_client.get(url, {"o": "4"})  # the fourth column: references, ascending
    assert [(p.title, p.reference_total) for p in listed.context["cl"].result_list] == [
        ("No reference", 0),
        ("Two references", 2),
    ]


def test_cases_are_found_by_diagnosis(admin_client):
    make_case(title="Myeloma case")
    make_case(title="Lymphoma case", disease="DLBCL", diagnosis="Diffuse large B-cell lymphoma")
    response = admin_client.get(reverse("admin:cases_case_changelist"), {"q": "B-cell"})
    assert [case.title for case in response.context["cl"].result_list] == ["Lymphoma case"]


def test_the_demo_case_pages_load(admin_client):
    from polls import demo

    demo.load_demo(password="demo-password-for-tests")
    case = Case.objects.get(title="Case Summary 2")
    for url in (
        reverse("admin:cases_case_changelist"),
        reverse("admin:cases_case_add"),
        reverse("admin:cases_case_change", args=[case.pk]),
        reverse("admin:cases_teachingpoint_changelist"),
        reverse("admin:cases_teachingpoint_add"),
        reverse("admin:cases_teachingpoint_change", args=[case.teaching_points.first().pk]),
    ):
        assert admin_client.get(url).status_code == 200, url


# ------------------------------------------------------------ patient identifiers (issue 16)

IDENTIFYING = "John Smith, MRN 4471923, DOB 03/14/1928, seen for back pain."


def test_a_case_with_patient_identifiers_is_refused_with_the_reason(admin_client):
    from cases.models import IdentifierAcknowledgement

    data = case_form(facts=[{"position": "1", "label": "Contact", "text": "Daughter on 717-555-0143"}])
    data |= {"current_status": IDENTIFYING, "patient_age": "97"}
    response = admin_client.post(reverse("admin:cases_case_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "a person's name" in errors["current_status"][0] and "a record" in errors["current_status"][0]
    assert "Enter 90" in errors["patient_age"][0]
    fact_errors = response.context["inline_admin_formsets"][3].formset.forms[0].errors
    assert "a telephone or fax number" in fact_errors["text"][0]
    assert not Case.objects.filter(title=CASE["title"]).exists()  # nothing half-saved
    assert not IdentifierAcknowledgement.objects.exists()


def test_an_acknowledged_finding_is_saved_and_recorded_without_its_text(admin_client, admin_user, caplog):
    from cases.models import IdentifierAcknowledgement

    data = case_form(facts=[{"position": "1", "label": "Guideline", "text": "FDA communication of 26 June 2025"}])
    data |= {"acknowledge_identifiers": "on"}
    response = admin_client.post(reverse("admin:cases_case_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    case = Case.objects.get(title=CASE["title"])
    record = IdentifierAcknowledgement.objects.get(case=case)
    assert (record.user, record.kind, record.where) == (admin_user, "date", "Case fact 1: text")
    from cases.selectors import unacknowledged_identifiers

    assert unacknowledged_identifiers(case=case) == []  # its event may go live
    assert "26 June" not in record.where and "26 June" not in caplog.text


def test_a_poll_question_is_guarded_like_the_case(admin_client):
    from polls import demo
    from polls.models import Poll

    event = demo.load_demo(password="demo-password-for-tests").event
    poll = event.polls.get(position=1)
    data = {
        "event": event.pk,
        "case": poll.case_id,
        "position": 9,
        "question": "Would you treat Mrs Delgado (jdelgado@example.com) now?",
        "kind": "single",
        "text_max_length": 140,
        "round_number": 1,
        **formset("options", [{"position": "1", "label": "Yes"}, {"position": "2", "label": "Call 410-555-0182"}]),
    }
    response = admin_client.post(reverse("admin:polls_poll_add"), data)
    assert response.status_code == 200
    assert "an e-mail address" in response.context["adminform"].form.errors["question"][0]
    option_errors = response.context["inline_admin_formsets"][0].formset.forms[1].errors
    assert "a telephone or fax number" in option_errors["label"][0]
    assert not Poll.objects.filter(position=9).exists()
