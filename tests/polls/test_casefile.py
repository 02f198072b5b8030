"""A case as a file (issue 16): export, import, copy; a bad file is refused whole with its reasons."""

from __future__ import annotations

import copy
import json

import pytest

from cases.models import Case
from polls import casefile, demo, services
from polls.casefile import CaseFileError, case_copy, case_file, case_file_bytes, case_file_import, read_case_file
from polls.models import ModeratorAction, Poll
from tests.factories import make_event, make_moderator

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_event():
    return demo.load_demo(password="demo-password-for-tests").event


@pytest.fixture
def exported(demo_event) -> dict:
    return case_file(demo_event.cases.get(), event=demo_event)


def counts() -> tuple[int, int]:
    return Case.objects.count(), Poll.objects.count()


def test_a_case_file_holds_the_case_its_teaching_points_and_the_events_polls(exported):
    assert (exported["format"], exported["version"]) == ("caseboard.case", 1)
    body = exported["case"]
    assert body["title"] == "Case Summary 2" and body["patient_age"] == 70
    assert [line["regimen"].split()[0] for line in body["therapy_lines"]] == ["VRd", "DKd"]
    assert [p["title"] for p in body["teaching_points"]][1].startswith("KarMMa-3")
    assert body["teaching_points"][2]["references"][0]["doi"] == "10.1056/NEJMoa2303379"
    assert [p["kind"] for p in exported["polls"]] == ["single", "likert", "numeric", "ranking", "text"]
    assert exported["polls"][0]["options"][0] == {"label": "Refer for CAR T", "is_preferred": True}


def test_the_file_reads_back_into_a_new_event_as_an_equal_copy(demo_event, exported):
    moderator = make_moderator()
    event = make_event(cases=[], moderators=[moderator])
    raw = case_file_bytes(demo_event.cases.get(), event=demo_event)
    case = case_file_import(data=read_case_file(raw), user=moderator, event_id=event.id)
    assert case.pk != demo_event.cases.get().pk and case.created_by == moderator
    assert list(event.cases.all()) == [case]
    again = case_file(case, event=event)
    assert again == exported  # every field, every list, in order
    assert ModeratorAction.objects.filter(event=event, action="add_case").count() == 1


def test_a_copy_is_the_events_own_later_library_edits_do_not_reach_it(demo_event):
    moderator = make_moderator()
    event = make_event(cases=[], moderators=[moderator])
    library = demo_event.cases.get()
    copied = case_copy(case_id=library.id, event_id=event.id, user=moderator, polls_from_event_id=demo_event.id)
    library.clinical_question = "Edited after the event"
    library.save()
    library.teaching_points.first().delete()
    copied.refresh_from_db()
    assert copied.clinical_question != "Edited after the event"
    assert copied.teaching_points.count() == 5
    assert event.polls.count() == 5 and all(p.state == "draft" for p in event.polls.all())


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda d: d.update(version=2), "version 2; this Caseboard reads version 1"),
        (lambda d: d.update(format="other"), "not a Caseboard case file"),
        (lambda d: d["case"].update(colour="red"), "case.colour: unknown field"),
        (lambda d: d["case"]["facts"][0].update(secret=True), "case.facts[0].secret: unknown field"),
        (lambda d: d["case"].update(patient_age="old"), "case.patient_age:"),
        (lambda d: d["case"].update(title=""), "case.title:"),
        (
            lambda d: d["case"]["teaching_points"][1]["references"][0].update(nct="NCT123"),
            "references[0]: nct must be “NCT” followed by 8 digits",
        ),
        (lambda d: d["polls"][0].update(options=[]), "polls[0].options: a single choice poll needs at least two"),
        (lambda d: d["polls"][2].update(numeric_min=10, numeric_max=1), "polls[2]: numeric_min must not be larger"),
        (lambda d: d["polls"][0].update(kind="poetry"), "polls[0].kind:"),
        (lambda d: d["case"].update(history="not a list"), "case.history: must be a list"),
        (lambda d: d["case"]["history"].append({"text": "x"}), "must be text"),
    ],
)
def test_a_bad_file_is_refused_whole_with_the_place_of_each_problem(exported, change, expected):
    moderator = make_moderator()
    event = make_event(cases=[], moderators=[moderator])
    data = copy.deepcopy(exported)
    change(data)
    before = counts()
    with pytest.raises(CaseFileError) as refused:
        case_file_import(data=read_case_file(json.dumps(data).encode()), user=moderator, event_id=event.id)
    assert any(expected in error for error in refused.value.errors), refused.value.errors
    assert counts() == before and event.cases.count() == 0  # nothing half-saved


@pytest.mark.parametrize(
    "raw, expected",
    [
        (b"\xff\xfe not utf-8", "not a JSON file"),
        (b"{not json", "not a JSON file"),
        (b'{"format": "caseboard.case", "version": NaN}', "not a JSON file"),
        (b"[]", "not a Caseboard case file"),
        (b" " * (casefile.MAX_BYTES + 1), "larger than"),
    ],
)
def test_what_is_not_a_case_file_says_so(raw, expected):
    with pytest.raises(CaseFileError) as refused:
        read_case_file(raw)
    assert expected in refused.value.errors[0]


def test_polls_without_an_event_land_in_the_case_library(exported):
    case = case_file_import(data=exported, user=make_moderator())
    assert case.teaching_points.count() == 5
    library = list(case.polls.order_by("position"))
    assert [p.question for p in library] == [p["question"] for p in exported["polls"]]
    assert all(p.event_id is None and p.state == "draft" for p in library)
    assert [p.position for p in library] == list(range(1, len(library) + 1))
    assert case_file(case)["polls"] == exported["polls"]


# ------------------------------------------------------------------ in the admin


def test_an_organiser_downloads_an_events_case_and_imports_it_into_another(admin_client, demo_event):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    response = admin_client.post(
        reverse("admin:polls_event_changelist"), {"action": "download_case_files", "_selected_action": [demo_event.pk]}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert 'filename="CASE2-1-case-summary-2.json"' in response["Content-Disposition"]
    assert ModeratorAction.objects.filter(event=demo_event, action="export").exists()

    target = make_event(cases=[], moderators=[])
    url = reverse("admin:polls_event_import_case", args=[target.pk])
    assert admin_client.get(reverse("admin:polls_event_change", args=[target.pk])).content.count(url.encode()) == 1
    upload = SimpleUploadedFile("case.json", response.content, content_type="application/json")
    imported = admin_client.post(url, {"case_file": upload}, follow=True)
    assert imported.status_code == 200
    assert target.cases.get().title == "Case Summary 2" and target.polls.count() == 5

    bad = json.loads(response.content)
    bad["version"] = 9
    upload = SimpleUploadedFile("case.json", json.dumps(bad).encode(), content_type="application/json")
    refused = admin_client.post(url, {"case_file": upload})
    assert refused.status_code == 400 and "reads version 1" in refused.content.decode()
    assert target.cases.count() == 1  # nothing more


def test_another_events_moderator_cannot_import_into_it(client, demo_event):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    outsider = make_moderator()
    client.force_login(outsider)
    upload = SimpleUploadedFile("case.json", case_file_bytes(demo_event.cases.get()), content_type="application/json")
    response = client.post(reverse("admin:polls_event_import_case", args=[demo_event.pk]), {"case_file": upload})
    assert response.status_code in (302, 403, 404)
    assert demo_event.cases.count() == 1


def test_an_event_copied_as_a_template_has_its_own_cases_and_polls_and_nothing_of_the_room(demo_event):
    from polls.casefile import event_copy

    services.poll_open(event_id=demo_event.id, poll_id=demo_event.polls.first().id, user=None)
    organiser = make_moderator()
    copy = event_copy(event_id=demo_event.id, user=organiser, title="Myeloma roundtable, Baltimore")
    assert copy.status == "draft" and copy.code != demo_event.code and list(copy.moderators.all()) == [organiser]
    questions = ("key", "label", "options", "position")
    assert list(copy.profile_questions.values_list(*questions)) == list(
        demo_event.profile_questions.values_list(*questions)
    )
    assert copy.min_cell_size == demo_event.min_cell_size
    [case] = copy.cases.all()
    assert case.pk != demo_event.cases.get().pk and case.title == "Case Summary 2"
    assert [p.question for p in copy.polls.all()] == [p.question for p in demo_event.polls.filter(round_of=None)]
    assert all(p.state == "draft" for p in copy.polls.all())
    assert not copy.participants.exists() and copy.started_at is None
    # The demo's acknowledged dated source stays acknowledged in the copy: it can go live.
    from polls.selectors import event_unacknowledged_identifiers

    assert event_unacknowledged_identifiers(copy.id) == []
    services.event_start(event_id=copy.id, user=organiser)


def test_the_admin_copies_an_event(admin_client, demo_event):
    from django.urls import reverse

    response = admin_client.post(
        reverse("admin:polls_event_changelist"),
        {"action": "copy_events", "_selected_action": [demo_event.pk]},
        follow=True,
    )
    assert response.status_code == 200 and "copied as" in response.content.decode()
    assert Case.objects.filter(title="Case Summary 2").count() == 2
