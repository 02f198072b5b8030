"""An event's schedule and its calendar invitation (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from polls import demo
from polls.models import Event
from tests.factories import make_moderator

pytestmark = pytest.mark.django_db
EMPTY = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}


@pytest.fixture(autouse=True)
def _no_static_root_warning(settings):
    settings.WHITENOISE_AUTOREFRESH = True


def event_form(**fields) -> dict:
    inlines = {
        f"{prefix}-{key}": value for prefix in ("disclosures", "agenda", "polls") for key, value in EMPTY.items()
    }
    base = {"title": "Myeloma roundtable", "code": "MYEL26", "min_cell_size": 5, "duration_minutes": 90}
    return {**base, **fields, **inlines}


def test_the_start_is_typed_as_local_time_where_the_event_happens(admin_client):
    form = event_form(starts_at_0="2026-12-09", starts_at_1="18:30:00", time_zone="America/New_York")
    response = admin_client.post("/admin/polls/event/add/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get(code="MYEL26")
    assert event.starts_at == datetime(2026, 12, 9, 23, 30, tzinfo=UTC)  # EST is UTC-5 in December
    page = admin_client.get(reverse("admin:polls_event_change", args=[event.pk])).content.decode()
    assert 'value="18:30:00"' in page  # shown again as the organiser typed it


def test_an_unknown_time_zone_is_refused(admin_client):
    response = admin_client.post("/admin/polls/event/add/", event_form(time_zone="Mars/Olympus"))
    assert response.status_code == 200
    assert "not a time zone name" in response.context["adminform"].form.errors["time_zone"][0]


def test_moderators_download_an_invitation_in_the_events_zone(client):
    loaded = demo.load_demo(password="demo-password-for-tests")
    event = loaded.event
    event.starts_at, event.time_zone, event.duration_minutes = (
        datetime(2026, 7, 1, 16, 0, tzinfo=UTC),
        "Europe/Paris",
        120,
    )
    event.save()
    moderator = get_user_model().objects.get(username=loaded.username)
    moderator.email = "moderator@example.org"
    moderator.save()
    faculty = get_user_model().objects.create_user("faculty", email="faculty@example.org", password="x-for-tests")
    event.panelists.add(faculty)
    client.force_login(moderator)
    response = client.get(f"/e/{event.code}/invite.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    [entry] = calendar.walk("VEVENT")
    start = entry.decoded("dtstart")
    assert (start.hour, str(start.tzinfo)) == (18, "Europe/Paris")  # 16:00 UTC is 18:00 in Paris in July
    assert entry.decoded("dtend") - start == (datetime(2026, 7, 1, 18) - datetime(2026, 7, 1, 16))
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Paris"
    attendees = {str(a): a.params["ROLE"] for a in entry.get("attendee")}
    assert attendees == {"mailto:moderator@example.org": "CHAIR", "mailto:faculty@example.org": "REQ-PARTICIPANT"}
    description = str(entry["description"])
    assert "/e/CASE2/moderate/" in description and "CASE2" in description
    assert event.presenter_token not in response.content.decode()  # invitations get forwarded


def test_the_invitation_is_the_moderators_alone(client):
    event = demo.load_demo(password="demo-password-for-tests").event
    event.starts_at = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)
    event.save()
    assert client.get(f"/e/{event.code}/invite.ics").status_code == 302  # to the login page
    client.force_login(make_moderator())
    assert client.get(f"/e/{event.code}/invite.ics").status_code == 404


def test_without_a_start_time_the_invitation_says_what_is_missing(client):
    loaded = demo.load_demo(password="demo-password-for-tests")
    client.force_login(get_user_model().objects.get(username=loaded.username))
    response = client.get(f"/e/{loaded.event.code}/invite.ics")
    assert response.status_code == 409 and b"start time" in response.content
