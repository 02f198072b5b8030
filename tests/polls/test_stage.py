"""The projector's one focus (event.screen) and theme, and the teaching points that follow the case on screen."""

import pytest

from polls import services
from polls.errors import DomainError
from polls.models import AgendaItem, ModeratorAction, Vote
from polls.protocol import outbound
from tests.factories import build_world, make_case, make_participant, make_poll, make_teaching_point, user_session

pytestmark = pytest.mark.django_db


def public_state(event_id: int) -> dict:
    return outbound.state_frames(event_id=event_id)["public"]


def test_each_command_that_puts_something_on_screen_sets_the_focus():
    w = build_world(teaching_point=True)
    assert public_state(w.event.id)["event"]["screen"] == "join"
    services.case_show(event_id=w.event.id, case_id=w.case.id, user=w.moderator)
    assert public_state(w.event.id)["event"]["screen"] == "case"
    services.poll_open(event_id=w.event.id, poll_id=w.poll.id, user=w.moderator)
    assert public_state(w.event.id)["event"]["screen"] == "poll"
    services.teaching_point_reveal(event_id=w.event.id, teaching_point_id=w.point.id, user=w.moderator)
    assert public_state(w.event.id)["event"]["screen"] == "teaching"
    services.results_reveal(event_id=w.event.id, poll_id=w.poll.id, user=w.moderator)
    assert public_state(w.event.id)["event"]["screen"] == "poll"


def test_the_moderator_chooses_the_screen_and_it_is_audited():
    w = build_world()
    for screen in ("blank", "join"):
        services.screen_show(event_id=w.event.id, screen=screen, user=w.moderator)
        assert public_state(w.event.id)["event"]["screen"] == screen
    # A draft poll can be put on screen (its question, before voting opens), with its case.
    services.screen_show(event_id=w.event.id, screen="poll", poll_id=w.poll.id, user=w.moderator)
    state = public_state(w.event.id)
    assert (state["event"]["screen"], state["poll"]["id"], state["case"]["id"]) == ("poll", w.poll.id, w.case.id)
    assert state["poll"]["state"] == "draft"
    assert ModeratorAction.objects.filter(event=w.event, action="show_screen").count() == 3


@pytest.mark.parametrize(
    ("screen", "poll", "code"),
    [("case", False, "invalid_transition"), ("poll", False, "invalid_transition"), ("slides", False, "bad_request"),
     ("case", True, "bad_request")],
)  # fmt: skip
def test_a_screen_with_nothing_to_show_or_unknown_is_refused(screen, poll, code):
    w = build_world()
    with pytest.raises(DomainError) as err:
        services.screen_show(event_id=w.event.id, screen=screen, poll_id=w.poll.id if poll else None, user=w.moderator)
    assert err.value.code == code


def test_the_theme_is_chosen_per_event():
    w = build_world()
    assert public_state(w.event.id)["event"]["theme"] == "light"
    services.theme_set(event_id=w.event.id, theme="dark", user=w.moderator)
    assert public_state(w.event.id)["event"]["theme"] == "dark"
    with pytest.raises(DomainError) as err:
        services.theme_set(event_id=w.event.id, theme="neon", user=w.moderator)
    assert err.value.code == "bad_request"


def test_the_previous_cases_teaching_point_leaves_the_screens_with_its_case():
    w = build_world(teaching_point=True)
    other = make_case(title="Case Summary 3")
    AgendaItem.objects.create(event=w.event, case=other, position=1)
    other_point = make_teaching_point(other, title="Other point")
    services.teaching_point_reveal(event_id=w.event.id, teaching_point_id=w.point.id, user=w.moderator)
    assert [p["id"] for p in public_state(w.event.id)["teaching_points"]] == [w.point.id]
    services.case_show(event_id=w.event.id, case_id=other.id, user=w.moderator)
    assert public_state(w.event.id)["teaching_points"] == []
    services.poll_open(event_id=w.event.id, poll_id=make_poll(w.event, other).id, user=w.moderator)
    assert public_state(w.event.id)["teaching_points"] == []
    # Revealing a point of another case brings that case (and its points) back on screen.
    services.teaching_point_reveal(event_id=w.event.id, teaching_point_id=w.point.id, user=w.moderator)
    state = public_state(w.event.id)
    assert state["case"]["id"] == w.case.id and state["poll"] is None
    assert [p["id"] for p in state["teaching_points"]] == [w.point.id]
    services.teaching_point_reveal(event_id=w.event.id, teaching_point_id=other_point.id, user=w.moderator)
    assert [p["id"] for p in public_state(w.event.id)["teaching_points"]] == [other_point.id]


def test_the_teaching_screen_shows_the_newest_point_or_the_one_chosen():
    w = build_world(teaching_point=True)
    second = make_teaching_point(w.case, title="Second", position=1)
    services.teaching_point_reveal(event_id=w.event.id, teaching_point_id=w.point.id, user=w.moderator)
    services.teaching_point_reveal(event_id=w.event.id, teaching_point_id=second.id, user=w.moderator)
    assert public_state(w.event.id)["event"]["teaching_point"] == second.id
    services.screen_show(event_id=w.event.id, screen="teaching", teaching_point_id=w.point.id, user=w.moderator)
    assert public_state(w.event.id)["event"]["teaching_point"] == w.point.id
    services.teaching_point_hide(event_id=w.event.id, teaching_point_id=w.point.id, user=w.moderator)
    assert public_state(w.event.id)["event"]["teaching_point"] is None
    with pytest.raises(DomainError) as err:  # hidden again: not on offer
        services.screen_show(event_id=w.event.id, screen="teaching", teaching_point_id=w.point.id, user=w.moderator)
    assert err.value.code == "unknown_teaching_point"


def test_next_and_back_walk_the_agenda_each_case_then_its_polls():
    w = build_world(teaching_point=True)
    second = make_poll(w.event, w.case, question="Second")
    other = make_case(title="Case Summary 3")
    AgendaItem.objects.create(event=w.event, case=other, position=1)
    third = make_poll(w.event, other, question="Third")

    def step(direction: int) -> tuple:
        services.screen_step(event_id=w.event.id, direction=direction, user=w.moderator)
        state = public_state(w.event.id)
        screen = state["event"]["screen"]
        return screen, state["case"]["id"], state["poll"]["id"] if screen == "poll" else None

    assert step(1) == ("case", w.case.id, None)  # from the join screen: the first case
    assert step(1) == ("poll", w.case.id, w.poll.id)
    assert public_state(w.event.id)["poll"]["state"] == "draft"  # shown, not opened
    assert step(1) == ("poll", w.case.id, second.id)
    assert step(1) == ("case", other.id, None)
    assert step(1) == ("poll", other.id, third.id)
    with pytest.raises(DomainError) as err:
        services.screen_step(event_id=w.event.id, direction=1, user=w.moderator)
    assert err.value.code == "invalid_transition"
    assert step(-1) == ("case", other.id, None)
    assert step(-1) == ("poll", w.case.id, second.id)


def test_next_and_back_page_through_the_revealed_teaching_points_first():
    w = build_world(teaching_point=True)
    second = make_teaching_point(w.case, title="Second", position=1)
    make_teaching_point(w.case, title="Never revealed", position=2)
    for point in (w.point, second):
        services.teaching_point_reveal(event_id=w.event.id, teaching_point_id=point.id, user=w.moderator)
    services.screen_step(event_id=w.event.id, direction=-1, user=w.moderator)
    assert public_state(w.event.id)["event"]["teaching_point"] == w.point.id
    services.screen_step(event_id=w.event.id, direction=1, user=w.moderator)
    assert public_state(w.event.id)["event"]["teaching_point"] == second.id
    services.screen_step(event_id=w.event.id, direction=1, user=w.moderator)  # past the last: the agenda's next
    state = public_state(w.event.id)
    assert (state["event"]["screen"], state["poll"]["id"]) == ("poll", w.poll.id)


def test_presence_counts_the_audience_that_joined_and_answered_the_poll_on_screen(client):
    w = build_world(opened=True, panelists=1)
    services.panelist_participant(event=w.event, user=w.panelists[0])
    voters = [make_participant(w.event) for _ in range(3)]
    Vote.objects.create(poll=w.poll, participant=voters[0])
    url = f"/e/{w.event.code}/presence.json"
    assert client.get(url).status_code == 404  # neither a moderator nor a presenter screen
    client.cookies["sessionid"] = user_session(w.moderator)
    assert client.get(url).json() == {"joined": 3, "voted": 1, "poll": w.poll.id}


def test_the_console_chooses_list_or_word_cloud_for_the_projector():
    w = build_world()
    assert public_state(w.event.id)["event"]["text_view"] == "list"
    services.text_view_set(event_id=w.event.id, view="cloud", user=w.moderator)
    assert public_state(w.event.id)["event"]["text_view"] == "cloud"
    with pytest.raises(DomainError) as err:
        services.text_view_set(event_id=w.event.id, view="table", user=w.moderator)
    assert err.value.code == "bad_request"
