"""Profile questions are the event's own: the built-in three are a template, the organiser edits
them in the admin (their events only), answers are checked against the event's questions, and
segments, the report and the exports read them."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from polls import demo, selectors, services
from polls.errors import DomainError
from polls.models import Event, ModeratorAction, Participant, ProfileQuestion
from polls.protocol import outbound
from tests.factories import build_world, make_event, make_moderator

pytestmark = pytest.mark.django_db
DEMO_PASSWORD = "demo-password-for-tests"
REGION = {"key": "region", "label": "Where you practise", "options": ["North", "South"]}
EMPTY = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}


@pytest.fixture(autouse=True)
def _no_static_root_warning(settings):
    settings.WHITENOISE_AUTOREFRESH = True


def world_with_region(**options):
    w = build_world(**options)
    ProfileQuestion.objects.create(event=w.event, position=1, **REGION)
    return w


def test_the_state_offers_the_events_own_questions():
    w = world_with_region(profile_fields=["setting"])
    state = outbound.build_state_message(w.event.id)
    import json

    questions = json.loads(state["public"])["event"]["profile_questions"]
    assert [q["key"] for q in questions] == ["setting", "region"]
    assert questions[1] == REGION


def test_answers_are_checked_against_the_events_own_questions():
    w = world_with_region(phones=1)
    pid = w.participants[0].id
    assert services.profile_set(participant_id=pid, event_id=w.event.id, answers={"region": "South"}) == {
        "region": "South"
    }
    for wrong in ({"region": "East"}, {"specialty": "Pathology"}):  # not offered; a built-in this event does not ask
        with pytest.raises(DomainError) as refused:
            services.profile_set(participant_id=pid, event_id=w.event.id, answers=wrong)
        assert refused.value.code == "invalid_profile"
    assert Participant.objects.get(pk=pid).profile == {"region": "South"}
    # another event's own question is not this event's
    other = world_with_region()
    ProfileQuestion.objects.create(event=other.event, key="unit", label="Unit", options=["A", "B"])
    with pytest.raises(DomainError):
        services.profile_set(participant_id=pid, event_id=w.event.id, answers={"unit": "A"})


def test_segments_report_and_export_follow_the_events_own_question(client):
    w = world_with_region(opened=True, labels=("Yes", "No"))
    w.event.min_cell_size = 2
    w.event.save()
    voters = [w.new_phone_key() for _ in range(4)]  # noqa: F841 (sessions of joined phones)
    for n, participant in enumerate(w.participants):
        services.profile_set(
            participant_id=participant.id, event_id=w.event.id, answers={"region": "North" if n < 2 else "South"}
        )
    # answered before the poll opens, so they split it
    services.poll_close(event_id=w.event.id, poll_id=w.poll.id, user=w.moderator)
    w.poll.refresh_from_db()
    reopened = w.add_poll(opened=True, labels=("Yes", "No"))
    for n, participant in enumerate(w.participants):
        services.vote_cast(
            participant_id=participant.id,
            event_id=w.event.id,
            poll_id=reopened.id,
            ref=f"v{n}",
            option_ids=(reopened.options.first().id,),
        )
    services.poll_close(event_id=w.event.id, poll_id=reopened.id, user=w.moderator)
    reopened.refresh_from_db()
    split = selectors.poll_results(poll=reopened).moderator["segments"]
    assert set(split) == {"region"}
    assert {s["segment"]: s["total"] for s in split["region"]} == {"North": 2, "South": 2}
    # the presenter may show the split by it; a key the event does not ask is refused
    services.segments_show(event_id=w.event.id, attribute="region", user=w.moderator)
    with pytest.raises(DomainError):
        services.segments_show(event_id=w.event.id, attribute="specialty", user=w.moderator)

    client.force_login(w.moderator)
    report = client.get(reverse("event-report", kwargs={"code": w.code})).content.decode()
    assert "Where you practise" in report
    exported = client.get(reverse("event-export", kwargs={"code": w.code}) + "?profile=1").content.decode()
    header = next(csv.reader(io.StringIO(exported)))
    assert "profile_region" in header and "profile_specialty" not in header


def test_the_demo_and_a_copy_of_it_ask_the_built_in_three():
    event = demo.load_demo(password=DEMO_PASSWORD).event
    asked = list(event.profile_questions.values_list("key", "label"))
    assert asked == [("specialty", "Specialty"), ("setting", "Practice setting"), ("experience", "Years in practice")]
    # a reload keeps an organiser's edit of a label
    event.profile_questions.filter(key="setting").update(label="Where you work")
    demo.load_demo(password=DEMO_PASSWORD)
    assert event.profile_questions.get(key="setting").label == "Where you work"


# ------------------------------------------------------------------ the admin


def organiser() -> Client:
    demo.load_demo(password=DEMO_PASSWORD)
    client = Client()
    client.force_login(get_user_model().objects.get(username="moderator"))
    return client


def change_form(event: Event, rows: list[dict], **fields) -> dict:
    form = {
        "title": event.title,
        "code": event.code,
        "min_cell_size": event.min_cell_size,
        "time_zone": event.time_zone,
        "duration_minutes": event.duration_minutes,
        **{f"agenda-{k}": "0" for k in ("TOTAL_FORMS", "INITIAL_FORMS")},
        **{f"polls-{k}": "0" for k in ("TOTAL_FORMS", "INITIAL_FORMS")},
        "profile_questions-TOTAL_FORMS": str(len(rows)),
        "profile_questions-INITIAL_FORMS": str(sum(1 for r in rows if r.get("id"))),
        **fields,
    }
    for n, row in enumerate(rows):
        for key, value in row.items():
            form[f"profile_questions-{n}-{key}"] = value
    return form


def existing_rows(event: Event) -> list[dict]:
    return [
        {
            "id": q.pk,
            "event": event.pk,
            "position": q.position,
            "key": q.key,
            "label": q.label,
            "options": "\n".join(q.options),
        }
        for q in event.profile_questions.all()
    ]


def test_a_new_event_starts_with_the_built_in_three_ticked():
    client = organiser()
    page = client.get("/admin/polls/event/add/").content.decode()
    for key in ("specialty", "setting", "experience"):
        assert f'value="{key}"' in page
    assert page.count('name="profile_fields"') == 3 and page.count("checked") >= 3


def test_the_organiser_edits_adds_and_removes_questions_of_a_draft_event(django_capture_on_commit_callbacks):
    client = organiser()
    event = Event.objects.get(code=demo.DEMO_CODE)
    rows = existing_rows(event)
    rows[0]["label"] = "Your specialty"
    rows[2]["DELETE"] = "on"
    rows.append({"event": event.pk, "position": 9, "key": "region", "label": "Region", "options": "North\n South \n\n"})
    url = reverse("admin:polls_event_change", args=[event.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, change_form(event, rows, moderators=[event.moderators.first().pk]))
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    assert selectors.profile_questions(event_id=event.id) == [
        {"key": "specialty", "label": "Your specialty", "options": rows[0]["options"].split("\n")},
        {"key": "setting", "label": "Practice setting", "options": rows[1]["options"].split("\n")},
        {"key": "region", "label": "Region", "options": ["North", "South"]},
    ]
    assert ModeratorAction.objects.filter(event=event, action="set_profile_questions").exists()
    assert callbacks  # the screens are told


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"options": "Only one"}, "at least two"),
        ({"options": "Same\nsame"}, "the same"),
        ({"key": "Not a key!"}, "Lower-case"),
        ({"key": "setting"}, "duplicate data for key"),
    ],
)
def test_a_bad_question_is_refused_with_a_message_and_nothing_is_saved(change, message):
    client = organiser()
    event = Event.objects.get(code=demo.DEMO_CODE)
    before = selectors.profile_questions(event_id=event.id)
    rows = existing_rows(event)
    rows.append(
        {"event": event.pk, "position": 9, "key": "region", "label": "Region", "options": "North\nSouth", **change}
    )
    response = client.post(
        reverse("admin:polls_event_change", args=[event.pk]),
        change_form(event, rows, moderators=[event.moderators.first().pk]),
    )
    assert response.status_code == 200
    assert message in response.content.decode(), re.findall(
        r"errorlist[^>]*>(.*?)</ul>", response.content.decode(), re.S
    )
    assert selectors.profile_questions(event_id=event.id) == before


def test_key_and_options_are_fixed_once_the_event_is_live():
    client = organiser()
    event = Event.objects.get(code=demo.DEMO_CODE)
    services.event_start(event_id=event.id, user=event.moderators.first())
    event.refresh_from_db()
    rows = existing_rows(event)
    rows[1].update(key="place", options="Anywhere\nElsewhere", label="Where you work")
    response = client.post(
        reverse("admin:polls_event_change", args=[event.pk]),
        change_form(event, rows, moderators=[event.moderators.first().pk]),
    )
    assert response.status_code == 302
    setting = event.profile_questions.get(position=rows[1]["position"])
    assert (setting.key, setting.label) == ("setting", "Where you work")  # the label may be corrected
    assert setting.options[0] == "Academic centre"


def test_a_moderator_of_another_event_cannot_see_or_edit_its_questions():
    organiser()
    event = Event.objects.get(code=demo.DEMO_CODE)
    stranger = make_moderator("stranger", is_staff=True)
    stranger.groups.set(get_user_model().objects.get(username="moderator").groups.all())
    make_event(moderators=[stranger])
    client = Client()
    client.force_login(stranger)
    url = reverse("admin:polls_event_change", args=[event.pk])
    assert client.get(url).status_code in (302, 404)
    client.post(url, change_form(event, [{**existing_rows(event)[0], "label": "Hacked"}]))
    assert event.profile_questions.get(key="specialty").label == "Specialty"


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_each_events_picked_built_ins_into_its_own_questions():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("polls", "0020_stage_screens")]
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("polls", "Event")
        picked = old.objects.create(title="Old board", code="ABCD", profile_fields=["setting", "specialty", "gone"])
        none = old.objects.create(title="Quiet board", code="WXYZ", profile_fields=[])
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
    finally:
        MigrationExecutor(connection).migrate(leaves)
    assert selectors.profile_questions(event_id=picked.pk) == [
        {
            "key": "setting",
            "label": "Practice setting",
            "options": ["Academic centre", "Community practice", "Non-academic hospital", "Other"],
        },
        {
            "key": "specialty",
            "label": "Specialty",
            "options": next(q["options"] for q in _built_ins() if q["key"] == "specialty"),
        },
    ]
    assert selectors.profile_questions(event_id=none.pk) == []


def _built_ins():
    from polls.profiles import BUILT_IN_QUESTIONS

    return BUILT_IN_QUESTIONS
