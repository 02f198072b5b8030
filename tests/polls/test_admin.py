"""The polls admin: pages load, live state is read-only, actions go through services (cases: tests/cases/)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.http import HttpRequest
from django.urls import reverse

from cases.models import Case
from polls import demo, services
from polls.models import Event, ModeratorAction, Poll, PollState, Vote
from tests.factories import make_case

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "demo-password-for-tests"
EMPTY_FORMSET = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}


@pytest.fixture(autouse=True)
def _no_static_root_warning(settings):
    # pytest-django runs with DEBUG off, so WhiteNoise looks for a collected STATIC_ROOT and warns
    # (an error under filterwarnings) when it is missing; autorefresh serves from the finders instead.
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture
def demo_event() -> Event:
    return demo.load_demo(password=DEMO_PASSWORD).event


@pytest.fixture
def pre_poll(demo_event) -> Poll:
    return demo_event.polls.get(position=1)


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def add(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def run_action(client, action: str, polls, capture) -> list[str]:
    with capture(execute=True):
        response = client.post(
            changelist(Poll), {"action": action, "_selected_action": [p.pk for p in polls]}, follow=True
        )
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def vote_on(poll: Poll) -> Vote:
    services.poll_open(event_id=poll.event_id, poll_id=poll.id, user=None)
    participant = services.participant_join(event=poll.event)
    option = poll.options.first().id
    services.vote_cast(
        participant_id=participant.id, event_id=poll.event_id, poll_id=poll.id, option_ids=(option,), ref="r1"
    )
    return Vote.objects.get(poll=poll)


# ----------------------------------------------------------------- pages


@pytest.mark.parametrize("model", [Event, Poll, ModeratorAction])
def test_changelists_load(admin_client, demo_event, model):
    assert admin_client.get(changelist(model)).status_code == 200


@pytest.mark.parametrize("model", [Event, Poll])
def test_add_pages_load(admin_client, model):
    assert admin_client.get(add(model)).status_code == 200


def test_change_pages_load(admin_client, demo_event, pre_poll):
    for obj in (demo_event, pre_poll):
        assert admin_client.get(change(obj)).status_code == 200


def test_event_page_shows_the_presenter_link(admin_client, demo_event):
    content = admin_client.get(change(demo_event)).content.decode()
    assert f"/e/CASE2/present/?key={demo_event.presenter_token}" in content


def test_poll_state_and_visibility_are_not_editable(admin_client, pre_poll, demo_event):
    form = admin_client.get(change(pre_poll)).context["adminform"].form
    assert "state" not in form.fields and "results_visible" not in form.fields
    inline = admin_client.get(change(demo_event)).context["inline_admin_formsets"][1]
    assert "state" not in inline.formset.forms[0].fields


def test_opened_poll_keeps_its_question_and_options(admin_client, pre_poll):
    services.poll_open(event_id=pre_poll.event_id, poll_id=pre_poll.id, user=None)
    response = admin_client.get(change(pre_poll))
    assert response.context["adminform"].form.fields["question"].disabled
    options = response.context["inline_admin_formsets"][0]
    assert not options.has_add_permission and not options.has_delete_permission


def test_event_code_is_normalised_on_add(admin_client):
    inlines = {
        f"{prefix}-{key}": value
        for prefix in ("disclosures", "agenda", "polls")
        for key, value in EMPTY_FORMSET.items()
    }
    form = {"title": "Breast board", "code": "brst7", "min_cell_size": 5}  # as the rendered form posts it
    response = admin_client.post(add(Event), {**form, **inlines})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Event.objects.filter(code="BRST7", status="draft").exists()


# --------------------------------------------------------------- actions


def test_open_action_opens_the_poll_through_the_service(
    admin_client, admin_user, pre_poll, demo_event, django_capture_on_commit_callbacks
):
    messages = run_action(admin_client, "open_polls", [pre_poll], django_capture_on_commit_callbacks)
    pre_poll.refresh_from_db()
    demo_event.refresh_from_db()
    assert pre_poll.state == PollState.OPEN and pre_poll.opened_at is not None
    assert (demo_event.status, demo_event.current_poll_id) == ("live", pre_poll.id)
    audit = ModeratorAction.objects.get(event=demo_event)
    assert (audit.action, audit.target, audit.user) == ("open_poll", f"poll:{pre_poll.id}", admin_user)
    assert messages == ["1 poll opened."]


def test_reveal_then_hide_results_through_the_actions(admin_client, pre_poll, django_capture_on_commit_callbacks):
    run_action(admin_client, "open_polls", [pre_poll], django_capture_on_commit_callbacks)
    run_action(admin_client, "close_polls", [pre_poll], django_capture_on_commit_callbacks)
    run_action(admin_client, "reveal_results", [pre_poll], django_capture_on_commit_callbacks)
    pre_poll.refresh_from_db()
    assert (pre_poll.state, pre_poll.results_visible) == (PollState.CLOSED, True)
    run_action(admin_client, "hide_results", [pre_poll], django_capture_on_commit_callbacks)
    pre_poll.refresh_from_db()
    assert pre_poll.results_visible is False
    actions = list(ModeratorAction.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["open_poll", "close_poll", "reveal_results", "hide_results"]


def test_refused_action_reports_the_domain_error(admin_client, pre_poll, django_capture_on_commit_callbacks):
    messages = run_action(admin_client, "close_polls", [pre_poll], django_capture_on_commit_callbacks)
    pre_poll.refresh_from_db()
    assert pre_poll.state == PollState.DRAFT
    assert not ModeratorAction.objects.exists()
    assert messages == [f"“{pre_poll.question}”: A draft poll cannot become closed."]


def test_action_is_refused_to_staff_who_do_not_moderate_the_event(client, pre_poll, django_capture_on_commit_callbacks):
    other = get_user_model().objects.create_user(username="other", password="pw-for-tests-only", is_staff=True)
    other.user_permissions.add(*Permission.objects.filter(codename__in=["view_poll", "change_poll"]))
    client.force_login(other)
    messages = run_action(client, "open_polls", [pre_poll], django_capture_on_commit_callbacks)
    pre_poll.refresh_from_db()
    assert pre_poll.state == PollState.DRAFT
    # The poll is not even in his list: the action finds nothing selected.
    assert not any("opened" in message for message in messages)


def test_read_only_records_cannot_be_added_or_changed(admin_client, pre_poll):
    vote = vote_on(pre_poll)
    audit = ModeratorAction.objects.first()
    assert admin_client.get(add(ModeratorAction)).status_code == 403
    assert admin_client.get(add(Vote)).status_code == 403
    response = admin_client.get(change(audit))
    assert response.status_code == 200 and not response.context["has_change_permission"]
    response = admin_client.post(
        changelist(ModeratorAction), {"action": "delete_selected", "_selected_action": [audit.pk]}
    )
    assert ModeratorAction.objects.filter(pk=audit.pk).exists()
    assert admin_client.get(change(vote)).status_code == 200


def test_participant_and_vote_lists_show_no_case_text(admin_client, pre_poll):
    vote = vote_on(pre_poll)
    case = pre_poll.case
    for url in (changelist(Vote), change(vote), changelist(Vote.participant.field.related_model)):
        content = admin_client.get(url).content.decode()
        assert pre_poll.question not in content
        assert case.clinical_question not in content and case.current_status not in content
    assert "Refer for CAR T" in admin_client.get(changelist(Vote)).content.decode()


def test_demo_moderator_can_author_but_not_edit_the_audit_log(client, demo_event):
    assert client.login(request=HttpRequest(), username="moderator", password=DEMO_PASSWORD)  # axes needs a request
    for url in (changelist(Case), add(Case), changelist(Event), change(demo_event), changelist(ModeratorAction)):
        assert client.get(url).status_code == 200, url
    assert client.get(add(ModeratorAction)).status_code == 403
    assert get_user_model().objects.get(username="moderator").is_superuser is False


def test_organiser_picks_profile_questions_panelists_and_cell_size(admin_client):
    from django.contrib.auth import get_user_model

    from polls.models import Event

    faculty = get_user_model().objects.create_user(username="faculty", password="pw-for-tests-only")
    response = admin_client.post(
        "/admin/polls/event/add/",
        {
            "title": "Lymphoma tumor board",
            "code": "lymf2",
            "moderators": [],
            "panelists": [faculty.pk],
            "profile_fields": ["setting", "specialty"],
            "min_cell_size": 7,
            "disclosures-TOTAL_FORMS": 0,
            "disclosures-INITIAL_FORMS": 0,
            "agenda-TOTAL_FORMS": 0,
            "agenda-INITIAL_FORMS": 0,
            "polls-TOTAL_FORMS": 0,
            "polls-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    event = Event.objects.get(code="LYMF2")
    # the ticked built-in questions became the event's own, in the template's order
    assert list(event.profile_questions.values_list("key", flat=True)) == ["specialty", "setting"]
    assert list(event.panelists.all()) == [faculty] and event.min_cell_size == 7


def test_a_poll_for_a_case_off_the_agenda_puts_that_case_on_it(admin_client, demo_event):
    """Issue 16: such a poll used to be saved silently and never appear in the console."""
    other = make_case(title="Case Summary 3", disease="Lymphoma", patient_age=64, diagnosis="DLBCL")
    options = {
        "options-TOTAL_FORMS": "2",
        "options-INITIAL_FORMS": "0",
        "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "1000",
        "options-0-position": "1",
        "options-0-label": "R-CHOP",
        "options-1-position": "2",
        "options-1-label": "Pola-R-CHP",
    }
    poll = {
        "event": demo_event.pk,
        "case": other.pk,
        "position": 9,
        "question": "First line for this patient?",
        "kind": "single",
        "text_max_length": 140,
        "round_number": 1,
    }
    response = admin_client.post(add(Poll), {**poll, **options}, follow=True)
    assert response.status_code == 200
    assert Poll.objects.filter(event=demo_event, case=other).exists(), response.context["adminform"].form.errors
    agenda = list(demo_event.agenda.values_list("case__title", flat=True))
    assert agenda == ["Case Summary 2", "Case Summary 3"]
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Case Summary 3" in m and "added" in m for m in said), said
    assert ModeratorAction.objects.filter(event=demo_event, action="agenda_complete").count() == 1
    # Saving again adds nothing twice.
    response = admin_client.post(add(Poll), {**poll, "position": 10, **options}, follow=True)
    assert demo_event.agenda.count() == 2


@pytest.mark.parametrize(
    "poll_fields, options, expected",
    [
        ({}, [], "A single choice poll needs at least two options."),
        ({}, [("1", "Refer")], "A single choice poll needs at least two options."),
        ({}, [("1", "Refer"), ("1", "Trial")], "Two options share position 1"),
        ({"kind": "numeric"}, [], "A number poll needs its smallest and its largest answer."),
        ({"kind": "numeric", "numeric_min": "12", "numeric_max": "12"}, [], "must be larger than the smallest"),
    ],
)
def test_a_poll_that_cannot_be_answered_is_refused_with_the_reason(
    admin_client, demo_event, poll_fields, options, expected
):
    """Issue 16's bad input: each a clear message, nothing half-saved."""
    rows = {
        "options-TOTAL_FORMS": str(len(options)),
        "options-INITIAL_FORMS": "0",
        "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "1000",
    }
    for n, (position, label) in enumerate(options):
        rows |= {f"options-{n}-position": position, f"options-{n}-label": label}
    poll = {
        "event": demo_event.pk,
        "case": demo_event.cases.get().pk,
        "position": 9,
        "question": "What next?",
        "kind": "single",
        "text_max_length": 140,
        "round_number": 1,
        **poll_fields,
    }
    before = Poll.objects.count()
    response = admin_client.post(add(Poll), {**poll, **rows})
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert Poll.objects.count() == before


def _with_disclosure(**disclosure) -> dict:
    inlines = {
        f"{prefix}-{key}": value
        for prefix in ("disclosures", "agenda", "polls")
        for key, value in EMPTY_FORMSET.items()
    }
    inlines["disclosures-TOTAL_FORMS"] = "1"
    form = {"title": "Myeloma board", "code": "mylm7", "min_cell_size": 5, **inlines}
    return {**form, **{f"disclosures-0-{k}": v for k, v in {"position": 1, **disclosure}.items()}}


def test_faculty_disclosures_are_added_with_the_event(admin_client):
    from polls.models import Disclosure

    response = admin_client.post(
        add(Event), _with_disclosure(faculty_name="Dr B. Example", role="Speaker", relationships="Advisory board: X")
    )
    assert response.status_code == 302, response.content[:3000]
    disclosure = Disclosure.objects.get()
    assert (disclosure.event.code, disclosure.relationships, disclosure.nothing_to_disclose) == (
        "MYLM7", "Advisory board: X", False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "disclosure, message",
    [
        ({"faculty_name": "Dr C", "role": "Speaker"}, "or tick “nothing to disclose”"),
        ({"faculty_name": "Dr C", "role": "Speaker", "nothing_to_disclose": "on", "relationships": "Consultant: Y"},
         "Leave this empty when there is nothing to disclose"),
        ({"faculty_name": "", "role": "Speaker", "nothing_to_disclose": "on"}, "This field is required"),
    ],
)  # fmt: skip
def test_a_disclosure_that_says_neither_or_both_is_refused_with_the_reason(admin_client, disclosure, message):
    from polls.models import Disclosure

    response = admin_client.post(add(Event), _with_disclosure(**disclosure))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Disclosure.objects.exists() and not Event.objects.filter(code="MYLM7").exists()


def test_the_database_refuses_a_disclosure_without_relationships_or_nothing(demo_event):
    from django.db import IntegrityError

    from polls.models import Disclosure

    with pytest.raises(IntegrityError):
        Disclosure.objects.create(event=demo_event, faculty_name="D", role="Speaker")


def test_a_moderator_edits_only_the_disclosures_of_events_he_moderates(client, demo_event):
    from polls.models import Disclosure

    other = Event.objects.create(title="Someone else's board", code="XTRA7")
    Disclosure.objects.create(event=other, faculty_name="Dr Hidden", role="Speaker", nothing_to_disclose=True)
    assert client.login(request=HttpRequest(), username="moderator", password=DEMO_PASSWORD)
    assert "Dr Hidden" not in client.get(change(demo_event)).content.decode()
    assert client.get(change(other)).status_code in (302, 404)


@pytest.mark.parametrize("days, saved", [("60", 60), ("", None), ("45", "refused")])
def test_the_organiser_chooses_the_follow_up_delay(admin_client, days, saved):
    inlines = {f"{p}-{k}": v for p in ("disclosures", "agenda", "polls") for k, v in EMPTY_FORMSET.items()}
    form = {"title": "Follow-up board", "code": "fllw7", "min_cell_size": 5, "followup_days": days, **inlines}
    response = admin_client.post(add(Event), form)
    if saved == "refused":
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
        assert not Event.objects.filter(code="FLLW7").exists()
    else:
        assert response.status_code == 302
        assert Event.objects.get(code="FLLW7").followup_days == saved
