"""What is hidden stays hidden in every frame, and exports cannot carry a formula."""

from __future__ import annotations

import csv
import io
import json

import pytest

from polls import exports, services
from polls.models import Poll
from polls.protocol import outbound
from tests.factories import make_case, make_event, make_moderator, make_participant, make_poll, option_ids

pytestmark = pytest.mark.django_db


def vote(event, poll, option_index: int, ref: str) -> None:
    participant = make_participant(event)
    services.vote_cast(
        participant_id=participant.id,
        event_id=event.id,
        poll_id=poll.id,
        option_ids=(option_ids(poll)[option_index],),
        ref=ref,
    )


def test_re_revealing_round_one_does_not_carry_the_hidden_round_twos_counts():
    moderator = make_moderator()
    case = make_case()
    event = make_event(moderators=[moderator], cases=[case])
    first = make_poll(event, case)
    services.poll_open(event_id=event.id, poll_id=first.id, user=moderator)
    vote(event, first, 0, "a")
    services.poll_close(event_id=event.id, poll_id=first.id, user=moderator)
    services.results_reveal(event_id=event.id, poll_id=first.id, user=moderator)
    second = services.poll_new_round(event_id=event.id, poll_id=first.id, user=moderator)
    services.poll_open(event_id=event.id, poll_id=second.id, user=moderator)
    for n in range(3):
        vote(event, second, 1, f"b{n}")
    services.results_reveal(event_id=event.id, poll_id=first.id, user=moderator)  # round 2 still hidden

    public = outbound.results_frames(poll=Poll.objects.get(pk=first.id))["public"]
    state = outbound.state_frames(event_id=event.id)["public"]
    for frame in (public, state["results"]):
        text = json.dumps(frame)
        assert f'"poll": {second.id}' not in text and "transitions" not in frame, frame
    moderator_view = outbound.results_frames(poll=Poll.objects.get(pk=first.id))["moderator"]
    assert [r["poll"] for r in moderator_view["rounds"]] == [first.id, second.id]  # moderators see both


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_export_cells_that_would_run_as_formulas_stay_text(dangerous):
    case = make_case(title=dangerous)
    event = make_event(cases=[case])
    make_poll(event, case, question=dangerous, labels=(dangerous, "safe"))
    rows = list(csv.reader(io.StringIO(exports.event_csv(event))))
    cells = [cell for row in rows[1:] for cell in row]
    assert dangerous not in cells
    assert "'" + dangerous in cells


def _segment_names(frame) -> set[str]:
    return {row["segment"] for rows in frame.get("segments", {}).values() for row in rows}


def test_small_cells_survive_differencing_and_made_up_sessions():
    moderator = make_moderator()
    case = make_case()
    event = make_event(moderators=[moderator], cases=[case], profile_fields=["specialty"])
    poll = make_poll(event, case)

    def joined(specialty: str):
        participant = make_participant(event)
        services.profile_set(participant_id=participant.id, event_id=event.id, answers={"specialty": specialty})
        return participant

    crowd = [joined("Hematology") for _ in range(6)]
    pathologist = joined("Pathology")
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    services.segments_show(event_id=event.id, attribute="specialty", user=moderator)
    for n, participant in enumerate(crowd):
        services.vote_cast(
            participant_id=participant.id,
            event_id=event.id,
            poll_id=poll.id,
            option_ids=(option_ids(poll)[0],),
            ref=f"c{n}",
        )
    services.results_reveal(event_id=event.id, poll_id=poll.id, user=moderator)
    before = outbound.results_frames(poll=Poll.objects.get(pk=poll.id))
    services.vote_cast(
        participant_id=pathologist.id, event_id=event.id, poll_id=poll.id, option_ids=(option_ids(poll)[1],), ref="p"
    )
    after = outbound.results_frames(poll=Poll.objects.get(pk=poll.id))
    # While the poll is open no split moves with each ballot: two frames differ by the total only.
    for frame in (*before.values(), *after.values()):
        assert frame.get("segments", {}) == {}, frame
    # Four sessions made up after the poll opened, all declaring Pathology, do not lift the cell.
    for n in range(4):
        services.vote_cast(
            participant_id=joined("Pathology").id,
            event_id=event.id,
            poll_id=poll.id,
            option_ids=(option_ids(poll)[1],),
            ref=f"s{n}",
        )
    services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
    closed = outbound.results_frames(poll=Poll.objects.get(pk=poll.id))
    for frame in closed.values():
        assert "Pathology" not in _segment_names(frame), frame["segments"]
        for row in (row for rows in frame["segments"].values() for row in rows):
            assert row["total"] >= 5 or ("counts" not in row and row.get("suppressed")), row
    exported = exports.event_csv(event)
    assert "Pathology" not in exported
