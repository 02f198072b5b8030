"""Getting in: join codes as people type them, a plain page for a bad link, the moderator's landing."""

import pytest

from tests.factories import build_world, make_event, make_moderator

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["case 2", " CASE2 ", "Case-2", "c a s e 2"])
def test_a_join_code_is_read_without_case_spaces_or_dashes(client, typed):
    make_event(code="CASE2")
    response = client.get("/", {"code": typed})
    assert response.status_code == 302 and response["Location"] == "/e/CASE2/"


def test_a_bad_event_link_is_a_plain_not_found_page_even_in_debug(client, settings):
    settings.DEBUG = True
    response = client.get("/e/NOPE22/")
    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()
    assert "Traceback" not in response.content.decode() and "URLconf" not in response.content.decode()


def test_after_login_the_moderator_lands_on_the_console_of_his_event(client):
    w = build_world(opened=True)  # a live event
    make_event(code="THER5")  # not his
    w.moderator.set_password("pw-for-tests-1")
    w.moderator.save()
    response = client.post("/accounts/login/", {"username": w.moderator.username, "password": "pw-for-tests-1"})
    assert response.status_code == 302
    landing = client.get(response["Location"])
    assert landing.status_code == 302 and landing["Location"] == f"/e/{w.event.code}/moderate/"


def test_a_user_who_moderates_nothing_lands_on_the_join_page(client):
    user = make_moderator()
    client.force_login(user)
    assert client.get("/moderate/")["Location"] == "/"


def test_a_logged_in_user_who_is_not_a_panelist_is_told_so(client):
    w = build_world()
    client.force_login(make_moderator())
    response = client.get(f"/e/{w.event.code}/panel/")
    assert response.status_code == 403
    assert "You are not on this event's panel" in response.content.decode()
    assert client.get("/e/NOPE22/panel/").status_code == 404


def test_a_duplicated_poll_comes_right_after_its_source_and_the_agenda_keeps_its_order():
    from polls import services
    from polls.models import Poll
    from tests.factories import make_poll

    w = build_world()
    second = make_poll(w.event, w.case, question="Second", position=w.poll.position + 1)
    copy = services.poll_duplicate(event_id=w.event.id, poll_id=w.poll.id, user=w.moderator)
    assert list(Poll.objects.filter(event=w.event).values_list("id", flat=True)) == [w.poll.id, copy.id, second.id]


def test_every_waiting_free_text_answer_is_approved_at_once_and_rejected_ones_stay_rejected():
    from polls import selectors, services
    from polls.ballots import Ballot
    from polls.models import Vote
    from tests.factories import make_participant

    w = build_world(kind="text", labels=(), opened=True)
    for n, text in enumerate(["Distance", "Manufacturing slots", "Payer delays"]):
        services.vote_cast(
            participant_id=make_participant(w.event).id,
            event_id=w.event.id,
            poll_id=w.poll.id,
            ref=f"t{n}",
            ballot=Ballot(text=text),
        )
    rejected = Vote.objects.get(poll=w.poll, value_text="Payer delays")
    services.answer_moderate(event_id=w.event.id, answer_id=rejected.id, approve=False, user=w.moderator)
    assert services.answers_approve_waiting(event_id=w.event.id, poll_id=w.poll.id, user=w.moderator) == 2
    answers = selectors.poll_results(poll=w.poll).moderator["answers"]
    assert sorted((a["text"], a["status"]) for a in answers) == [
        ("Distance", "approved"),
        ("Manufacturing slots", "approved"),
        ("Payer delays", "rejected"),
    ]
