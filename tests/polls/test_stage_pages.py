"""A focus too long for the projector at a readable size is split into pages: the projector
reports how many, next/back step through them before moving along the agenda, and any change of
focus starts again on page 1."""

import pytest

from polls import protocol, services
from polls.errors import DomainError
from polls.models import ModeratorAction
from polls.protocol import Role, outbound
from tests.factories import build_world

pytestmark = pytest.mark.django_db


def page(event_id: int) -> dict:
    return outbound.state_frames(event_id=event_id)["public"]["event"]["page"]


def test_next_and_back_step_through_the_pages_then_along_the_agenda(django_capture_on_commit_callbacks):
    w = build_world()
    services.case_show(event_id=w.event.id, case_id=w.case.id, user=w.moderator)
    assert page(w.event.id) == {"focus": "", "index": 0, "count": 1}
    focus = f"case:{w.case.id}"
    with django_capture_on_commit_callbacks(execute=False) as told:
        services.stage_pages_set(event_id=w.event.id, focus=focus, pages=3)
    assert told and page(w.event.id) == {"focus": focus, "index": 0, "count": 3}
    # the same report again changes nothing and tells nobody
    with django_capture_on_commit_callbacks(execute=False) as told:
        services.stage_pages_set(event_id=w.event.id, focus=focus, pages=3)
    assert not told

    for index in (1, 2):
        services.screen_step(event_id=w.event.id, direction=1, user=w.moderator)
        assert page(w.event.id)["index"] == index
    assert ModeratorAction.objects.filter(event=w.event, action="step", target="page:3/3").exists()
    services.screen_step(event_id=w.event.id, direction=-1, user=w.moderator)
    assert page(w.event.id)["index"] == 1
    # fewer pages for the same focus (the projector resized): the page stays within them
    services.stage_pages_set(event_id=w.event.id, focus=focus, pages=2)
    assert page(w.event.id) == {"focus": focus, "index": 1, "count": 2}
    # past the last page, next moves along the agenda, and the pages start again
    event = services.screen_step(event_id=w.event.id, direction=1, user=w.moderator)
    assert (event.screen, event.current_poll_id) == ("poll", w.poll.id)
    assert page(w.event.id) == {"focus": "", "index": 0, "count": 1}


def test_a_report_for_another_focus_starts_on_its_first_page():
    w = build_world()
    services.case_show(event_id=w.event.id, case_id=w.case.id, user=w.moderator)
    services.stage_pages_set(event_id=w.event.id, focus=f"case:{w.case.id}", pages=3)
    services.screen_step(event_id=w.event.id, direction=1, user=w.moderator)
    services.stage_pages_set(event_id=w.event.id, focus=f"poll:{w.poll.id}:question", pages=2)
    assert page(w.event.id)["index"] == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda w: services.poll_open(event_id=w.event.id, poll_id=w.poll.id, user=w.moderator),
        lambda w: services.screen_show(event_id=w.event.id, screen="join", user=w.moderator),
        lambda w: services.case_show(event_id=w.event.id, case_id=w.case.id, user=w.moderator),
    ],
)
def test_every_change_of_focus_forgets_the_pages(call):
    w = build_world()
    services.case_show(event_id=w.event.id, case_id=w.case.id, user=w.moderator)
    services.stage_pages_set(event_id=w.event.id, focus=f"case:{w.case.id}", pages=3)
    services.screen_step(event_id=w.event.id, direction=1, user=w.moderator)
    call(w)
    assert page(w.event.id) == {"focus": "", "index": 0, "count": 1}


@pytest.mark.parametrize(
    ("focus", "pages"), [("case:1", 0), ("case:1", 21), ("case:1", True), ("", 2), ("x" * 81, 2), ("case:1", 2.5)]
)
def test_a_bad_report_is_refused_and_changes_nothing(focus, pages):
    w = build_world()
    with pytest.raises(DomainError) as refused:
        services.stage_pages_set(event_id=w.event.id, focus=focus, pages=pages)
    assert refused.value.code == "bad_request"
    assert page(w.event.id) == {"focus": "", "index": 0, "count": 1}


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.PANELIST, Role.MODERATOR])
def test_only_a_projector_reports_its_pages(role):
    frame = {"type": "stage_pages", "focus": "case:1", "pages": 2}
    with pytest.raises(DomainError) as refused:
        protocol.parse(frame, role=role)
    assert refused.value.code == "forbidden"
    assert protocol.parse(frame, role=Role.PRESENTER).pages == 2
