"""Rounds and transitions, profile segments with small-cell suppression, panel versus audience."""

import csv
import io

import pytest
from django.urls import reverse

from polls import comparisons, selectors, services
from polls.ballots import Ballot
from polls.errors import DomainError
from polls.models import Event, Participant, Poll
from polls.profiles import suppress
from polls.protocol import outbound
from tests.factories import build_world, make_moderator, make_participant, make_poll, option_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = build_world(
        profile_fields=["setting", "specialty"],
        labels=("Refer for CAR T", "Bispecific on a trial", "Doublet"),
        opened=True,
    )
    return w.moderator, w.event, w.poll


def vote(poll, participant, option_index, ref=None):
    services.vote_cast(
        participant_id=participant.id,
        event_id=poll.event_id,
        poll_id=poll.id,
        ballot=Ballot(options=(option_ids(poll)[option_index],)),
        ref=ref or f"{poll.id}-{participant.id}-{option_index}",
    )


def person(event, **profile):
    participant = make_participant(event)
    if profile:
        services.profile_set(participant_id=participant.id, event_id=event.id, answers=profile)
    return participant


def next_round(moderator, event, poll) -> Poll:
    services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
    second = services.poll_new_round(event_id=event.id, poll_id=poll.id, user=moderator)
    services.poll_open(event_id=event.id, poll_id=second.id, user=moderator)
    return second


# --------------------------------------------------------------- rounds


def test_transitions_count_only_participants_in_both_rounds_with_their_last_ballot(world):
    moderator, event, first = world
    stays, switches, changes_mind, only_before, only_after = (person(event) for _ in range(5))
    vote(first, stays, 0)
    vote(first, switches, 1)
    vote(first, changes_mind, 1, ref="a")
    vote(first, changes_mind, 0, ref="b")  # changed within round 1: counts as option 0
    vote(first, only_before, 2)
    second = next_round(moderator, event, first)
    assert second.round_of_id == first.id and second.round_number == 2
    vote(second, stays, 0)
    vote(second, switches, 0)
    vote(second, changes_mind, 2)
    vote(second, only_after, 1)
    detail = comparisons.rounds_detail(Poll.objects.get(pk=second.id))
    moves = detail["transitions"]
    assert moves["participants"] == 3 and moves["changed"] == 2
    assert moves["matrix"] == [[1, 0, 1], [1, 0, 0], [0, 0, 0]]
    assert moves["from_options"] == option_ids(first) and moves["to_options"] == option_ids(second)
    assert [r["total"] for r in detail["rounds"]] == [4, 4]
    assert detail["rounds"][0]["percent"] == [50.0, 25.0, 25.0]
    assert detail["rounds"][1]["percent"] == [50.0, 25.0, 25.0]
    assert detail["rounds"][1]["shift"] == [0.0, 0.0, 0.0]


def test_a_third_round_compares_with_the_second_and_rounds_need_a_choice_kind(world):
    moderator, event, first = world
    second = next_round(moderator, event, first)
    third = next_round(moderator, event, second)
    assert third.round_of_id == first.id and third.round_number == 3
    assert comparisons.rounds_detail(third)["transitions"]["from_poll"] == second.id
    numeric = make_poll(event, first.case, labels=(), kind="numeric")
    with pytest.raises(DomainError) as err:
        services.poll_new_round(event_id=event.id, poll_id=numeric.id, user=moderator)
    assert err.value.code == "not_a_round"


def test_shift_in_percentage_points(world):
    moderator, event, first = world
    people = [person(event) for _ in range(10)]
    for i, p in enumerate(people):
        vote(first, p, 0 if i < 7 else 1)  # 70% / 30% before discussion
    second = next_round(moderator, event, first)
    for p in people:
        vote(second, p, 0)  # everyone after
    rounds = comparisons.rounds_detail(second)["rounds"]
    assert rounds[1]["shift"] == [30.0, -30.0, 0.0]


# --------------------------------------------------------------- profiles and segments


def test_profile_answers_are_validated_and_optional(world):
    _, event, poll = world
    participant = person(event)
    with pytest.raises(DomainError) as err:
        services.profile_set(participant_id=participant.id, event_id=event.id, answers={"experience": "Over 20"})
    assert err.value.code == "invalid_profile"  # not asked in this event
    with pytest.raises(DomainError) as err:
        services.profile_set(participant_id=participant.id, event_id=event.id, answers={"setting": "Mars"})
    assert err.value.code == "invalid_profile"
    assert services.profile_set(participant_id=participant.id, event_id=event.id, answers={"setting": ""}) == {}
    vote(poll, participant, 0)  # voting never needs a profile


def test_suppression_merges_small_cells_complementarily():
    rows = [
        {"segment": "A", "total": 9, "counts": {"1": 9}},
        {"segment": "B", "total": 6, "counts": {"1": 6}},
        {"segment": "C", "total": 2, "counts": {"1": 2}},
    ]
    result = suppress(rows, k=5)
    assert [r["segment"] for r in result] == ["A", "other"]  # B joins C so "other" is not recoverable
    assert result[1] == {"segment": "other", "total": 8, "counts": {"1": 8}}
    alone = suppress([{"segment": "A", "total": 3, "counts": {"1": 3}}], k=5)
    assert alone == [{"segment": "other", "total": 3, "suppressed": True}]
    assert suppress([], k=5) == []


def _all_segment_rows(frame):
    return [row for rows in frame.get("segments", {}).values() for row in rows]


def test_small_segments_never_leak_through_any_role_or_endpoint(world, client):
    moderator, event, poll = world
    services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)  # they join, then it reopens
    people = [(person(event, setting="Community practice", specialty="Hematology"), 0) for _ in range(6)]
    people += [(person(event, setting="Academic centre", specialty="Medical oncology"), 1) for _ in range(3)]
    people += [(person(event), 2) for _ in range(2)]  # no profile
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    for participant, index in people:
        vote(poll, participant, index)
    services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
    services.results_reveal(event_id=event.id, poll_id=poll.id, user=moderator)
    services.segments_show(event_id=event.id, attribute="setting", user=moderator)
    frames = outbound.results_frames(poll=Poll.objects.get(pk=poll.id))
    for frame in (frames["public"], frames["moderator"]):
        rows = _all_segment_rows(frame)
        assert rows, frame
        for row in rows:
            assert row["total"] >= 5 or ("counts" not in row and row.get("suppressed")), row
            assert row["segment"] not in {"Academic centre", "Medical oncology", "not stated"}, frame["segments"]
    assert set(frames["public"]["segments"]) == {"setting"}
    assert set(frames["moderator"]["segments"]) == {"setting", "specialty"}

    client.force_login(moderator)
    data = client.get(reverse("poll-results", kwargs={"code": event.code, "poll_id": poll.id})).json()
    assert all(row["total"] >= 5 or row.get("suppressed") for rows in data["segments"].values() for row in rows)
    assert "Academic centre" not in str(data) and "Medical oncology" not in str(data)
    exported = client.get(reverse("event-export", kwargs={"code": event.code})).content.decode()
    assert "Academic centre" not in exported and "not stated" not in exported and "Medical oncology" not in exported
    segment_rows = [r for r in csv.DictReader(io.StringIO(exported)) if r["segment"]]
    assert {r["segment"] for r in segment_rows} == {"Community practice", "other", "Hematology"}
    assert all(int(r["segment_total"]) >= 5 or r["segment_count"] == "" for r in segment_rows)


def test_presenter_split_needs_an_asked_attribute(world):
    moderator, event, _ = world
    with pytest.raises(DomainError) as err:
        services.segments_show(event_id=event.id, attribute="experience", user=moderator)
    assert err.value.code == "unknown_attribute"


# --------------------------------------------------------------- panel


def test_panel_votes_are_never_counted_as_audience_votes(world, client):
    moderator, event, poll = world
    faculty = make_moderator()
    event.panelists.add(faculty)
    panelist = services.panelist_participant(event=event, user=faculty)
    assert services.panelist_participant(event=event, user=faculty) == panelist  # one identity
    vote(poll, panelist, 1)
    for _ in range(3):
        vote(poll, person(event), 0)
    vote(poll, person(event), 1)
    frames = outbound.results_frames(poll=Poll.objects.get(pk=poll.id))
    moderator_frame = frames["moderator"]
    first, second, third = (str(i) for i in option_ids(poll))
    assert moderator_frame["total"] == 4
    assert moderator_frame["counts"] == {first: 3, second: 1, third: 0}
    # One panelist is a cell under k: only the panel's size, never its vote (nor its majority).
    assert moderator_frame["panel"] == {"total": 1, "suppressed": True}
    assert "concordance" not in moderator_frame
    colleague = make_moderator()
    event.panelists.add(colleague)
    vote(poll, services.panelist_participant(event=event, user=colleague), 1)
    Event.objects.filter(pk=event.id).update(min_cell_size=2)  # a panel of two, shown once k is two
    moderator_frame = outbound.results_frames(poll=Poll.objects.get(pk=poll.id))["moderator"]
    assert moderator_frame["panel"] == {"total": 2, "counts": {first: 0, second: 2, third: 0}}
    assert moderator_frame["concordance"]["panel_majority"] == {"share": 0.25, "agreeing": 1}
    assert selectors.poll_tally(poll_id=poll.id) == (4, {int(first): 3, int(second): 1, int(third): 0})
    client.force_login(moderator)
    exported = list(
        csv.DictReader(io.StringIO(client.get(reverse("event-export", kwargs={"code": event.code})).content.decode()))
    )
    row = next(r for r in exported if r["option_id"] == second and not r["segment"])
    assert (row["audience_total"], row["audience_count"], row["panel_count"]) == ("4", "1", "2")


def test_only_listed_panelists_get_a_panel_identity(world):
    _, event, _ = world
    with pytest.raises(DomainError):
        services.panelist_participant(event=event, user=make_moderator())
    assert not Participant.objects.filter(is_panelist=True).exists()


def test_concordance_with_the_preferred_answer(world):
    moderator, event, poll = world
    preferred = poll.options.first()
    preferred.is_preferred = True
    preferred.save()
    for index in (0, 0, 0, 1):
        vote(poll, person(event), index)
    detail = comparisons.panel_and_concordance(Poll.objects.get(pk=poll.id), 4, k=5)
    assert detail == {"concordance": {"preferred": {"share": 0.75, "agreeing": 3}}}


def test_public_frames_hold_back_agreement_with_the_preferred_answer_until_it_is_revealed(world):
    moderator, event, poll = world
    Poll.objects.get(pk=poll.id).options.filter(pk=option_ids(poll)[0]).update(is_preferred=True)
    vote(poll, person(event), 0)
    services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
    services.results_reveal(event_id=event.id, poll_id=poll.id, user=moderator)
    frames = outbound.results_frames(poll=Poll.objects.get(pk=poll.id))
    assert "concordance" not in frames["public"] and "preferred" in frames["moderator"]["concordance"]
    services.preferred_reveal(event_id=event.id, poll_id=poll.id, user=moderator)
    frames = outbound.results_frames(poll=Poll.objects.get(pk=poll.id))
    assert frames["public"]["concordance"]["preferred"] == {"share": 1.0, "agreeing": 1}
