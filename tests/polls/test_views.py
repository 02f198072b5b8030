"""The HTTP side: join, the fallback for phones without websockets, moderator-only JSON, health."""

import json

import pytest
from django.urls import reverse

from polls import services
from polls.models import Participant, Vote
from tests.factories import make_case, make_event, make_moderator, make_poll, option_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    moderator = make_moderator()
    case = make_case()
    event = make_event(moderators=[moderator], cases=[case], profile_fields=["setting"])
    poll = make_poll(event, case)
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    return moderator, event, poll


def post_json(client, url, frame):
    return client.post(url, data=json.dumps(frame), content_type="application/json")


def test_landing_redirects_a_code_in_any_case_and_explains_a_wrong_one(client, world):
    _, event, _ = world
    response = client.get("/", {"code": f" {event.code.lower()} "})
    assert response.status_code == 302 and response.url == f"/e/{event.code}/"
    response = client.get("/", {"code": "NOPE99"})
    assert response.status_code == 404 and b"No event uses that code" in response.content


def test_participant_page_joins_once_per_session(client, world):
    _, event, _ = world
    for _ in range(2):
        assert client.get(f"/e/{event.code}/").status_code == 200
    assert Participant.objects.filter(event=event).count() == 1
    assert "script-src 'self'" in client.get(f"/e/{event.code}/").headers["Content-Security-Policy"]


def test_fallback_vote_profile_and_state_match_the_socket_protocol(client, world):
    _, event, poll = world
    client.get(f"/e/{event.code}/")
    vote = {"type": "vote", "ref": "h1", "poll": poll.id, "options": [option_ids(poll)[0]]}
    first = post_json(client, reverse("participant-vote", kwargs={"code": event.code}), vote)
    again = post_json(client, reverse("participant-vote", kwargs={"code": event.code}), vote)
    assert first.status_code == again.status_code == 200
    # The replay repeats the ballot; only the first answer carries the total it was counted in.
    assert {k: v for k, v in first.json().items() if k != "results"} == again.json()
    results = first.json()["results"]
    assert results["total"] == 1 and results["poll"] == poll.id
    assert first.json() == {
        "type": "ack",
        "ref": "h1",
        "poll": poll.id,
        "options": [option_ids(poll)[0]],
        "results": results,
    }
    assert Vote.objects.count() == 1
    conflict = post_json(
        client, reverse("participant-vote", kwargs={"code": event.code}), {**vote, "options": [option_ids(poll)[1]]}
    )
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"
    profile = {"type": "profile", "ref": "p1", "answers": {"setting": "Community practice"}}
    saved = post_json(client, reverse("participant-profile", kwargs={"code": event.code}), profile)
    assert saved.json() == {"type": "ack", "ref": "p1", "profile": {"setting": "Community practice"}}
    state = client.get(reverse("participant-state", kwargs={"code": event.code})).json()
    assert state["type"] == "state" and state["my_vote"] == {"poll": poll.id, "options": [option_ids(poll)[0]]}
    assert isinstance(state["server_time"], int) and "agenda" not in state


def test_fallback_refuses_a_browser_that_never_joined_and_enforces_csrf(client, world):
    _, event, poll = world
    vote = {"type": "vote", "ref": "x", "poll": poll.id, "options": [option_ids(poll)[0]]}
    response = post_json(client, reverse("participant-vote", kwargs={"code": event.code}), vote)
    assert response.status_code == 403 and response.json()["code"] == "not_joined"
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.get(f"/e/{event.code}/")
    assert post_json(strict, reverse("participant-vote", kwargs={"code": event.code}), vote).status_code == 403
    assert not Vote.objects.exists()


def test_results_json_is_for_the_events_moderators_only(client, world):
    moderator, event, poll = world
    url = reverse("poll-results", kwargs={"code": event.code, "poll_id": poll.id})
    assert client.get(url).status_code == 404
    client.force_login(make_moderator())
    assert client.get(url).status_code == 404
    client.force_login(moderator)
    data = client.get(url).json()
    assert (data["poll"], data["state"], data["total"]) == (poll.id, "open", 0)
    assert data["counts"] == {str(i): 0 for i in option_ids(poll)}


def test_presenter_needs_a_moderator_or_the_secret_link(client, world):
    _, event, _ = world
    assert client.get(f"/e/{event.code}/present/").status_code == 302  # to the login
    assert client.get(f"/e/{event.code}/present/?key=wrong").status_code == 302
    response = client.get(f"/e/{event.code}/present/?key={event.presenter_token}")
    assert response.status_code == 302 and client.get(response.url).status_code == 200


def test_healthz_reports_database_and_channel_layer(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}
