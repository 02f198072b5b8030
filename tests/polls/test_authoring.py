"""The authoring workspace (issue 16): a moderator writes a case with its polls, previews it and
adds a copy of it to an event; every bad input is refused with its reason and nothing of it is
saved; a repeated submission makes nothing twice; another moderator's cases and events are out
of reach."""

from __future__ import annotations

import io
import json
import threading

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse
from PIL import Image

from cases.models import Case, CaseImage, IdentifierAcknowledgement, Reference, TeachingPoint
from polls import services
from polls.authorviews import WorkspaceEventForm
from polls.casefile import case_file
from polls.models import Event, ModeratorAction, Option, Poll
from polls.services.authoring import event_create
from tests.factories import make_case, make_event, make_moderator, make_poll

pytestmark = pytest.mark.django_db

CASE = {
    "title": "Relapsed myeloma after three lines",
    "disease": "Multiple myeloma",
    "diagnosis": "IgG-kappa multiple myeloma",
    "patient_age": "68",
    "patient_sex": "female",
    "years_since_diagnosis": "5",
    "ecog": "1",
    "current_status": "Progression on daratumumab-based therapy.",
    "clinical_question": "What would you offer next?",
}
PARTS = ("staging", "history", "therapy_lines", "facts", "teaching_points", "images")


def author(**perms):
    user = make_moderator()
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_case", "add_event"]))
    return user


@pytest.fixture
def writer(client):
    user = author()
    client.force_login(user)
    return user


def rows(prefix: str, items: list[dict], initial: int = 0) -> dict:
    """A formset's fields as the page posts them; ORDER numbers the rows as the page left them."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(items)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for n, item in enumerate(items):
        item = {"ORDER": str(n + 1), **item}
        data.update({f"{prefix}-{n}-{key}": value for key, value in item.items() if value is not None})
    return data


def case_post(case: dict | None = None, ref: str = "ref-1", references: list | None = None, **parts) -> dict:
    data = {f"case-{key}": value for key, value in {**CASE, **(case or {})}.items()}
    data["form_ref"] = ref
    for name in PARTS:
        data.update(rows(name, parts.get(name, [])))
    if references is not None:
        data.update(rows("references", references))
    return data


def png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def new_case(client, **parts) -> Case:
    response = client.post(reverse("author-case-new"), case_post(**parts))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Case.objects.get(title=CASE["title"])


def poll_post(prefix: str = "newpoll", ref: str = "poll-ref-1", options=(), **fields) -> dict:
    values = {"question": "What next?", "kind": "single", "text_max_length": "140", **fields}
    data = {f"{prefix}-{key}": value for key, value in values.items()}
    data["form_ref"] = ref
    data.update(rows(f"{prefix}-options", [{"label": label} for label in options]))
    return data


def add_poll(client, case: Case, **fields) -> Poll:
    before = set(Poll.objects.values_list("pk", flat=True))
    response = client.post(reverse("author-poll-new", args=[case.pk]), poll_post(**fields))
    assert response.status_code == 302, response.content.decode()[:3000]
    return Poll.objects.exclude(pk__in=before).get()


# ------------------------------------------------------------------ access


def test_the_workspace_asks_for_a_login(client):
    response = client.get(reverse("author"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_moderator_sees_only_his_own_cases_and_events(client, writer):
    mine = make_case(title="Mine", created_by=writer)
    theirs = make_case(title="Someone else's", created_by=make_moderator())
    make_event(title="My roundtable", moderators=[writer])
    make_event(title="Their roundtable", moderators=[make_moderator()])
    page = client.get(reverse("author")).content.decode()
    assert "Mine" in page and "My roundtable" in page
    assert "Someone else" not in page and "Their roundtable" not in page
    assert client.get(reverse("author-case", args=[mine.pk])).status_code == 200
    # Another's case is "not found", read or written, and so are its polls and images.
    assert client.get(reverse("author-case", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("author-case", args=[theirs.pk]), case_post()).status_code == 404
    assert client.post(reverse("author-poll-new", args=[theirs.pk]), poll_post(options=["A", "B"])).status_code == 404
    assert client.get(reverse("author-case-export", args=[theirs.pk])).status_code == 404
    their_event = Event.objects.get(title="Their roundtable")
    their_poll = make_poll(their_event, theirs)
    assert client.get(reverse("author-event", args=[their_event.pk])).status_code == 404
    assert client.get(reverse("author-case-image", args=[theirs.pk, 1])).status_code == 404
    assert client.post(reverse("author-poll-delete", args=[theirs.pk, their_poll.pk])).status_code == 404
    # Nor through a case of his own: the poll must be of the case in the address.
    assert client.post(reverse("author-poll-delete", args=[mine.pk, their_poll.pk])).status_code == 302
    assert Poll.objects.filter(pk=their_poll.pk).exists()
    assert Case.objects.get(pk=theirs.pk).title == "Someone else's" and theirs.polls.count() == 1


def test_without_the_permission_no_case_or_event_is_created(client):
    user = make_moderator()
    client.force_login(user)
    assert client.post(reverse("author-case-new"), case_post()).status_code == 403
    assert client.post(reverse("author-event-new"), {"title": "X", "form_ref": "r"}).status_code == 403
    assert not Case.objects.exists() and not Event.objects.exists()


def test_a_case_cannot_be_added_to_another_moderators_event(client, writer):
    case = make_case(created_by=writer)
    theirs = make_event(moderators=[make_moderator()])
    response = client.post(reverse("author-case-add", args=[case.pk]), {"event": theirs.pk, "form_ref": "a"})
    assert response.status_code == 302
    assert not theirs.agenda.exists()
    page = client.get(response["Location"]).content.decode()
    assert "events you moderate" in page


# ------------------------------------------------------------------ the case builder


def test_a_case_is_written_with_its_parts_in_page_order(client, writer):
    case = new_case(
        client,
        staging=[{"system": "R-ISS", "value": "2"}],
        history=[{"text": "Hypertension"}, {"text": "Type 2 diabetes"}],
        therapy_lines=[{"regimen": "VRd", "ORDER": "2"}, {"regimen": "DaraRd", "ORDER": "1"}],
        facts=[{"label": "New cytogenetics", "text": "Gain 1q", "hidden_until_revealed": "on"}],
        teaching_points=[{"title": "Sequencing", "text": "T-cell fitness matters."}],
        images=[{"upload": SimpleUploadedFile("ct.png", png()), "caption": "CT", "alt_text": "A CT slice",
                 "no_identifiers_in_pixels": "on"}],
    )  # fmt: skip
    assert case.created_by == writer
    # The page's order, numbered by the server: the line moved first is line 1.
    assert [(t.line_number, t.regimen) for t in case.therapy_lines.all()] == [(1, "DaraRd"), (2, "VRd")]
    assert [(h.position, h.text) for h in case.history.all()] == [(1, "Hypertension"), (2, "Type 2 diabetes")]
    image = case.images.get()
    assert image.content_type == "image/webp" and image.uploaded_by == writer and image.position == 1
    point = case.teaching_points.get()
    # References belong to a saved teaching point; added on the next save.
    data = case_post(
        teaching_points=[{"id": str(point.pk), "title": "Sequencing", "text": "T-cell fitness matters."}],
        references=[{"teaching_point": str(point.pk), "citation": "KarMMa-3", "nct": "NCT03651128"}],
    )
    data.update(rows("teaching_points", [{"id": str(point.pk), "title": "Sequencing", "text": "T-cell fitness."}], 1))
    response = client.post(reverse("author-case", args=[case.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Reference.objects.get(teaching_point=point).nct == "NCT03651128"
    assert TeachingPoint.objects.get(pk=point.pk).text == "T-cell fitness."


def test_saving_a_new_case_twice_makes_one_case(client, writer):
    data = case_post()
    first = client.post(reverse("author-case-new"), data)
    again = client.post(reverse("author-case-new"), data)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Case.objects.count() == 1


def test_text_that_looks_like_a_patient_identifier_is_shown_and_saved_only_when_acknowledged(client, writer):
    flagged = {"current_status": "John Smith, MRN 4471923, seen on 03/14/2024."}
    response = client.post(reverse("author-case-new"), case_post(case=flagged))
    assert response.status_code == 400
    page = response.content.decode()
    assert "looks like a patient identifier" in page and "MRN 4471923" in page
    assert not Case.objects.exists()
    # One box, named without a form prefix, covers the case and all its rows.
    response = client.post(
        reverse("author-case-new"), {**case_post(case=flagged, ref="ref-2"), "acknowledge_identifiers": "on"}
    )
    assert response.status_code == 302
    case = Case.objects.get()
    recorded = IdentifierAcknowledgement.objects.filter(case=case)
    assert recorded.exists() and all(a.user == writer for a in recorded)
    assert not any("4471923" in (a.where + a.kind) for a in recorded)  # the text itself is never kept


def test_a_flagged_poll_is_listed_at_the_case_findings_and_acknowledged_there(client, writer):
    """The console links a refused go-live to the case's page at #findings: the list there covers
    the case's polls too (written past the forms, e.g. an import), and the page's box covers them."""
    from polls.errors import DomainError

    case = new_case(client)
    event = make_event(cases=[case], moderators=[writer])
    poll = make_poll(event, case, question="Ring 617-555-0142 first?")
    with pytest.raises(DomainError):
        services.event_start(event_id=event.id, user=writer)
    page = client.get(reverse("author-case", args=[case.pk])).content.decode()
    assert 'id="findings"' in page and f"Poll {poll.pk}: question" in page
    assert "617-555" not in page.split('id="findings"')[1].split("</fieldset>")[0]  # where and kind only
    response = client.post(
        reverse("author-case", args=[case.pk]), {**case_post(ref="r2", references=[]), "acknowledge_identifiers": "on"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert IdentifierAcknowledgement.objects.filter(case=case, where=f"Poll {poll.pk}: question").exists()
    services.event_start(event_id=event.id, user=writer)
    assert Event.objects.get(pk=event.pk).status == "live"


def test_an_age_over_89_is_refused(client, writer):
    response = client.post(reverse("author-case-new"), case_post(case={"patient_age": "97"}))
    assert response.status_code == 400 and "Enter 90 for any age over 89" in response.content.decode()
    assert not Case.objects.exists()


# ------------------------------------------------------------------ polls


def test_polls_of_every_kind_keep_only_their_kinds_fields(client, writer):
    case = new_case(client)
    single = add_poll(client, case, options=["Refer for CAR T", "Bispecific"], numeric_min="1", numeric_max="9")
    assert single.event is None and single.position == 1 and single.state == "draft"
    assert single.numeric_min is None and single.numeric_max is None  # a number poll's fields are not kept
    assert [(o.position, o.label) for o in single.options.all()] == [(1, "Refer for CAR T"), (2, "Bispecific")]
    numeric = add_poll(client, case, ref="r2", kind="numeric", numeric_min="0", numeric_max="60", numeric_unit="months")
    assert (numeric.numeric_min, numeric.numeric_max, numeric.position) == (0, 60, 2)
    assert not numeric.options.exists()
    scale = add_poll(client, case, ref="r3", kind="likert", scale_from="1", scale_to="5")
    assert [o.label for o in scale.options.all()] == ["1", "2", "3", "4", "5"]
    text = add_poll(client, case, ref="r4", kind="text", options=["left over"])
    assert not text.options.exists()


def test_options_are_reordered_and_removed_by_the_page_order(client, writer):
    case = new_case(client)
    poll = add_poll(client, case, options=["A", "B", "C"])
    a, b, c = poll.options.all()
    prefix = f"poll{poll.pk}"
    data = poll_post(prefix=prefix, ref="")
    data.update(
        rows(
            f"{prefix}-options",
            [
                {"id": str(a.pk), "label": "A", "ORDER": "3"},
                {"id": str(b.pk), "label": "B", "ORDER": "2", "DELETE": "on"},
                {"id": str(c.pk), "label": "C", "ORDER": "1"},
                {"label": "D", "ORDER": "2"},
            ],
            initial=3,
        )
    )
    response = client.post(reverse("author-poll", args=[case.pk, poll.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert [(o.position, o.label) for o in poll.options.all()] == [(1, "C"), (2, "D"), (3, "A")]


def test_a_double_submitted_poll_is_saved_once(client, writer):
    case = new_case(client)
    data = poll_post(options=["A", "B"])
    first = client.post(reverse("author-poll-new", args=[case.pk]), data)
    again = client.post(reverse("author-poll-new", args=[case.pk]), data)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Poll.objects.filter(case=case).count() == 1 and Option.objects.count() == 2


def test_the_preview_carries_what_the_live_screens_receive(client, writer):
    case = new_case(client, facts=[{"label": "Hidden", "text": "Gain 1q", "hidden_until_revealed": "on"}])
    add_poll(client, case, options=["A", "B"], question="Which next?")
    page = client.get(reverse("author-case", args=[case.pk])).content.decode()
    start = page.index('id="author-preview"')
    payload = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])
    assert payload["case"]["title"] == CASE["title"]
    assert payload["case"]["facts"][0]["text"] == "Gain 1q"  # shown as revealed, to be checked
    assert payload["polls"][0]["question"] == "Which next?"
    assert [o["label"] for o in payload["polls"][0]["options"]] == ["A", "B"]
    assert payload["image_path"] == f"/author/cases/{case.pk}/images/"


# ------------------------------------------------------------------ bad input: refused whole


def refused(response, text: str) -> str:
    assert response.status_code == 400, response.status_code
    page = response.content.decode()
    assert text in page, page[:4000]
    return page


def test_duplicate_positions_are_refused(client, writer):
    case = new_case(client)
    data = poll_post(options=[])
    data.update(rows("newpoll-options", [{"label": "A", "ORDER": "1"}, {"label": "B", "ORDER": "1"}]))
    refused(client.post(reverse("author-poll-new", args=[case.pk]), data), "Two options share position 1")
    assert not Poll.objects.exists() and not Option.objects.exists()


def test_a_choice_poll_without_options_is_refused(client, writer):
    case = new_case(client)
    refused(client.post(reverse("author-poll-new", args=[case.pk]), poll_post()), "needs at least two options")
    assert not Poll.objects.exists()


def test_a_rating_scale_from_a_larger_number_to_a_smaller_is_refused(client, writer):
    case = new_case(client)
    for low, high in (("5", "1"), ("3", "3")):
        response = client.post(
            reverse("author-poll-new", args=[case.pk]), poll_post(kind="likert", scale_from=low, scale_to=high)
        )
        refused(response, "must run from a smaller number to a larger one")
    assert not Poll.objects.exists()


def test_a_number_poll_without_bounds_is_refused(client, writer):
    case = new_case(client)
    refused(
        client.post(reverse("author-poll-new", args=[case.pk]), poll_post(kind="numeric", numeric_max="10")),
        "needs its smallest and its largest answer",
    )
    refused(
        client.post(
            reverse("author-poll-new", args=[case.pk]), poll_post(kind="numeric", numeric_min="10", numeric_max="1")
        ),
        "must be larger than the smallest",
    )
    assert not Poll.objects.exists()


def _with_image(client, case: Case, upload) -> object:
    data = case_post(
        images=[{"upload": upload, "alt_text": "A CT slice", "no_identifiers_in_pixels": "on"}], references=[]
    )
    data["case-title"] = "Renamed with the image"
    return client.post(reverse("author-case", args=[case.pk]), data)


def test_a_50_mb_image_is_refused_and_nothing_of_the_page_is_saved(client, writer):
    case = new_case(client)
    huge = SimpleUploadedFile("scan.png", b"\0" * (50 * 2**20), content_type="image/png")
    refused(_with_image(client, case, huge), "larger than 10 MB")
    assert Case.objects.get(pk=case.pk).title == CASE["title"] and not CaseImage.objects.exists()


def test_a_50_mb_image_is_not_kept_in_memory_or_on_disk_past_the_limit(client, writer, monkeypatch):
    """Django's handlers would spool all 50 MB to a temporary file; cases.uploads stops them at
    the limit, and the form still says why, with the page's other fields kept."""
    from django.core.files import uploadhandler

    from cases.images import MAX_UPLOAD_BYTES

    kept = {"temporary": 0, "memory": 0}

    def counting(name, original):
        def receive(self, raw_data, start):
            kept[name] += len(raw_data)
            return original(self, raw_data, start)

        return receive

    for name, handler in (("temporary", uploadhandler.TemporaryFileUploadHandler),
                          ("memory", uploadhandler.MemoryFileUploadHandler)):  # fmt: skip
        monkeypatch.setattr(handler, "receive_data_chunk", counting(name, handler.receive_data_chunk))
    case = new_case(client)
    huge = SimpleUploadedFile("scan.png", b"\0" * (50 * 2**20), content_type="image/png")
    response = _with_image(client, case, huge)
    refused(response, "larger than 10 MB")
    assert "Renamed with the image" in response.content.decode()  # what was typed is shown again
    assert 0 < max(kept.values()) <= MAX_UPLOAD_BYTES  # each handler saw at most the limit
    assert Case.objects.get(pk=case.pk).title == CASE["title"] and not CaseImage.objects.exists()


def test_a_file_that_is_not_an_image_is_refused(client, writer):
    case = new_case(client)
    fake = SimpleUploadedFile("scan.png", b"%PDF-1.7 not an image", content_type="image/png")
    refused(_with_image(client, case, fake), "not an image Caseboard can read")
    assert Case.objects.get(pk=case.pk).title == CASE["title"] and not CaseImage.objects.exists()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"version": 2}, "this Caseboard reads version 1"),
        ({"colour": "red"}, "colour: unknown field"),
    ],
)
def test_an_import_of_the_wrong_version_or_with_unknown_fields_is_refused(client, writer, change, message):
    source = make_case(title="Shared case", created_by=writer)
    data = {**case_file(source), **change}
    before = Case.objects.count()
    upload = SimpleUploadedFile("case.json", json.dumps(data).encode(), content_type="application/json")
    refused(client.post(reverse("author-import"), {"case_file": upload}), message)
    assert Case.objects.count() == before


def test_an_import_lands_in_the_library_with_its_polls(client, writer):
    source = make_case(title="Shared case", created_by=make_moderator())
    event = make_event(cases=[source])
    make_poll(event, source, question="Shared question?")
    upload = SimpleUploadedFile(
        "case.json", json.dumps(case_file(source, event=event)).encode(), content_type="application/json"
    )
    response = client.post(reverse("author-import"), {"case_file": upload})
    assert response.status_code == 302
    imported = Case.objects.get(title="Shared case", created_by=writer)
    assert [(p.question, p.event_id) for p in imported.polls.all()] == [("Shared question?", None)]


# ------------------------------------------------------------------ events


def test_an_event_is_created_once_and_the_case_is_copied_into_it(client, writer):
    form = client.get(reverse("author-event-new")).content.decode()
    assert 'name="title"' in form and 'name="time_zone"' in form
    assert 'name="profile_fields"' not in form and 'name="acknowledge_identifiers"' not in form
    data = {"title": "Myeloma roundtable", "starts_at": "2027-03-04T18:30", "time_zone": "Europe/Paris",
            "duration_minutes": "90", "form_ref": "event-ref"}  # fmt: skip
    first = client.post(reverse("author-event-new"), data)
    again = client.post(reverse("author-event-new"), data)
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    event = Event.objects.get()
    assert event.owner == writer and list(event.moderators.all()) == [writer] and event.status == "draft"
    assert event.starts_at.isoformat() == "2027-03-04T17:30:00+00:00"  # 18:30 in Paris
    assert ModeratorAction.objects.filter(event=event, action="create_event").count() == 1

    case = new_case(client)
    add_poll(client, case, options=["A", "B"], question="Which next?")
    add = {"event": str(event.pk), "form_ref": "add-ref"}
    assert client.post(reverse("author-case-add", args=[case.pk]), add).status_code == 302
    assert client.post(reverse("author-case-add", args=[case.pk]), add).status_code == 302  # a double click
    copy = event.cases.get()
    assert copy.pk != case.pk and copy.title == case.title
    assert [(p.question, p.event_id, p.state) for p in Poll.objects.filter(case=copy)] == [
        ("Which next?", event.pk, "draft")
    ]
    # Later library edits leave the event's copy as it was.
    edited = client.post(
        reverse("author-case", args=[case.pk]), case_post(case={"title": "Edited later"}, references=[])
    )
    assert edited.status_code == 302
    assert Case.objects.get(pk=case.pk).title == "Edited later"
    assert Case.objects.get(pk=copy.pk).title == CASE["title"]
    page = client.get(reverse("author-event", args=[event.pk])).content.decode()
    assert CASE["title"] in page and reverse("moderator", args=[event.code]) in page


def test_an_open_poll_of_a_live_event_cannot_be_edited(client, writer):
    case = make_case(created_by=writer)
    event = make_event(moderators=[writer], cases=[case], status="live")
    poll = make_poll(event, case, question="Asked live?", state="open")
    prefix = f"poll{poll.pk}"
    data = poll_post(prefix=prefix, ref="", question="Changed while open?")
    data.update(rows(f"{prefix}-options", [{"id": str(o.pk), "label": o.label} for o in poll.options.all()], initial=2))
    response = client.post(reverse("author-poll", args=[case.pk, poll.pk]), data)
    assert response.status_code == 409
    assert "This poll is open in event" in response.content.decode()
    assert Poll.objects.get(pk=poll.pk).question == "Asked live?"
    delete = client.post(reverse("author-poll-delete", args=[case.pk, poll.pk]))
    assert delete.status_code == 302 and Poll.objects.filter(pk=poll.pk).exists()


def test_a_poll_added_to_an_events_case_joins_that_event_and_is_audited(client, writer):
    case = make_case(created_by=writer)
    event = make_event(moderators=[writer], cases=[case])
    poll = add_poll(client, case, options=["A", "B"])
    assert poll.event == event
    assert ModeratorAction.objects.filter(event=event, action="add_poll", target=f"poll:{poll.pk}").exists()


def test_a_quick_poll_is_in_the_report_and_the_export_like_any_other(client):

    moderator = make_moderator()
    case = make_case(created_by=moderator)
    event = make_event(moderators=[moderator], cases=[case])
    services.quick_poll_add(
        event_id=event.pk, user=moderator, ref="q", case_id=None, kind="single", question="Asked on the spot?",
        options=["Yes", "No"],
    )  # fmt: skip
    client.force_login(moderator)
    export = client.get(reverse("event-export", args=[event.code]))
    assert export.status_code == 200 and "Asked on the spot?" in export.content.decode()
    report = client.get(reverse("event-report", args=[event.code]))
    assert report.status_code == 200 and "Asked on the spot?" in report.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submissions_of_one_form_at_once_make_one_event():
    """Two requests carrying one form's ref race: the receipt's unique constraint lets one win,
    the other returns what the winner made (PostgreSQL: SQLite serialises every write anyway)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent writers")
    user = author()
    start = threading.Barrier(2)
    made: list[int] = []

    def submit() -> None:
        try:
            form = WorkspaceEventForm({"title": "Raced", "time_zone": "UTC", "duration_minutes": "90"})
            assert form.is_valid(), form.errors
            start.wait(timeout=10)
            made.append(event_create(user=user, event_form=form, ref="one-form").pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(made) == 2 and made[0] == made[1]
    assert Event.objects.filter(title="Raced").count() == 1


# ------------------------------------------------------------------ links (issue 16)


def test_the_workspace_event_page_links_its_console_and_report(client, writer):
    event = make_event(moderators=[writer])
    page = client.get(reverse("author-event", args=[event.pk])).content.decode()
    assert f'href="{reverse("moderator", args=[event.code])}"' in page
    assert f'href="{reverse("event-report", args=[event.code])}"' in page
    assert client.get(reverse("event-report", args=[event.code])).status_code == 200


def test_the_console_links_to_the_workspace(client, writer):
    event = make_event(moderators=[writer])
    page = client.get(reverse("moderator", args=[event.code])).content.decode()
    assert f'href="{reverse("author")}"' in page and "Authoring workspace" in page


def test_a_moderator_without_an_event_lands_in_the_workspace(client, writer):
    assert client.get(reverse("moderator-home"))["Location"] == reverse("author")
    event = make_event(moderators=[writer])
    assert client.get(reverse("moderator-home"))["Location"] == reverse("moderator", args=[event.code])
    # Someone who may not prepare cases or events (a panelist) goes to the join page, as before.
    client.force_login(make_moderator())
    assert client.get(reverse("moderator-home"))["Location"] == reverse("landing")


def test_the_console_quick_poll_has_the_box_the_guard_asks_for(client, writer):
    """The guard's message says to tick “I have checked the flagged text…”: the console's quick
    poll form has that box, worded the same, sent as `acknowledge` (static/js/console-quickpoll.js)."""
    from cases.forms import ACKNOWLEDGE_LABEL, describe
    from cases.identifiers import find_identifiers

    event = make_event(moderators=[writer])
    page = client.get(reverse("moderator", args=[event.code])).content.decode()
    form = page.split('data-testid="quick-poll-form"')[1].split("</form>")[0]
    assert 'type="checkbox" name="acknowledge_identifiers" id="quick-acknowledge"' in form
    assert f"> {ACKNOWLEDGE_LABEL}</label>" in form
    text = "Call 617-555-0142 first?"
    assert f"tick “{ACKNOWLEDGE_LABEL}”" in describe(text, find_identifiers(text))
