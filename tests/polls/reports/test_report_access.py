"""Who gets the report, the exports and the recap: the event's moderators. Tried as an attacker
would: anonymous, a participant's phone, another event's moderator, staff who only author cases,
a made-up code. Everyone else gets a login redirect or 403, never a figure; every file is audited."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import reverse

from polls import services
from polls.models import ModeratorAction
from tests.factories import build_world, make_moderator, option_ids

pytestmark = pytest.mark.django_db

NAMES = [
    "event-report",
    "event-report-pdf",
    "event-export",
    "event-export-xlsx",
    "event-recap",
    "event-recap-md",
    "event-recap-pdf",
]
SECRET_QUESTION = "Which regimen would you choose for this secret case?"


@pytest.fixture
def world():
    world = build_world(opened=True, phones=5, question=SECRET_QUESTION)
    for n, participant in enumerate(world.participants):
        services.vote_cast(
            participant_id=participant.id,
            event_id=world.event.id,
            poll_id=world.poll.id,
            option_ids=(option_ids(world.poll)[n % 2],),
            ref=f"r{n}",
        )
    return world


def _urls(code: str) -> list[str]:
    return [reverse(name, kwargs={"code": code}) for name in NAMES]


@pytest.mark.parametrize("name", NAMES)
def test_anonymous_visitors_are_sent_to_log_in(world, client, name):
    url = reverse(name, kwargs={"code": world.code})
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL) and "next=" in response["Location"]


@pytest.mark.parametrize("name", NAMES)
def test_a_participants_phone_is_sent_to_log_in(world, client, name):
    client.cookies[settings.SESSION_COOKIE_NAME] = world.phone_keys[0]
    response = client.get(reverse(name, kwargs={"code": world.code}))
    assert response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)


@pytest.mark.parametrize("name", NAMES)
def test_another_events_moderator_is_refused_without_a_figure(world, client, name):
    other = build_world(poll=False)
    client.force_login(other.moderator)
    response = client.get(reverse(name, kwargs={"code": world.code}))
    assert response.status_code == 403
    assert SECRET_QUESTION.encode() not in response.content
    assert world.event.title.encode() not in response.content


def test_staff_who_only_author_cases_and_made_up_codes_get_the_same_403(world, client):
    author = make_moderator(is_staff=True)
    author.user_permissions.add(Permission.objects.get(codename="add_case"))
    client.force_login(author)
    for url in _urls(world.code) + _urls("ZZZZZZ"):
        assert client.get(url).status_code == 403, url


def test_staff_trusted_with_every_event_may_read_it(world, client):
    staff = make_moderator(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="moderate_all_events"))
    client.force_login(staff)
    assert client.get(reverse("event-report", kwargs={"code": world.code})).status_code == 200


def test_every_file_a_moderator_takes_is_audited(world, client):
    client.force_login(world.moderator)
    for url in _urls(world.code):
        assert client.get(url).status_code == 200, url
    targets = list(
        ModeratorAction.objects.filter(event=world.event, action="export")
        .order_by("id")
        .values_list("target", flat=True)
    )
    assert targets == ["report", "pdf", "", "xlsx", "recap.md", "recap.pdf"]
    assert set(ModeratorAction.objects.filter(action="export").values_list("user_id", flat=True)) == {
        world.moderator.id
    }


def test_a_report_during_the_event_is_labelled_a_snapshot_with_its_time(world, client):
    client.force_login(world.moderator)
    body = client.get(reverse("event-report", kwargs={"code": world.code})).content.decode()
    assert 'data-testid="snapshot"' in body and "Snapshot taken" in body


def test_the_poll_is_still_open_and_its_figures_are_the_tallys(world, client):
    client.force_login(world.moderator)
    text = client.get(reverse("event-export", kwargs={"code": world.code})).content.decode()
    assert "3,60.0" in text and "2,40.0" in text  # 3 and 2 of 5, as the tally counts them
    book = client.get(reverse("event-export-xlsx", kwargs={"code": world.code})).content
    from openpyxl import load_workbook

    assert load_workbook(io.BytesIO(book), read_only=True).sheetnames[0] == "Summary"


def test_a_poll_whose_case_left_the_agenda_is_still_reported(world, client):
    from polls.models import AgendaItem

    AgendaItem.objects.filter(event=world.event).delete()
    client.force_login(world.moderator)
    assert SECRET_QUESTION in client.get(reverse("event-report", kwargs={"code": world.code})).content.decode()
    assert SECRET_QUESTION in client.get(reverse("event-export", kwargs={"code": world.code})).content.decode()
