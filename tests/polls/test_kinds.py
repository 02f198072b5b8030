"""Every poll kind: valid ballots, each class of invalid ballot, and its aggregation."""

import pytest

from polls import selectors, services, tallies
from polls.ballots import Ballot
from polls.errors import DomainError
from polls.models import AnswerStatus, Poll, Vote
from polls.protocol import outbound
from tests.factories import build_world, make_participant, option_ids

pytestmark = pytest.mark.django_db

SCALE = ("Very unlikely", "Unlikely", "Unsure", "Likely", "Very likely")


@pytest.fixture
def world():
    return build_world(poll=False)


def open_poll(world, **fields) -> Poll:
    return world.add_poll(opened=True, **fields)


def cast(poll: Poll, ballot: Ballot, participant=None, ref="r"):
    participant = participant or make_participant(poll.event)
    return services.vote_cast(
        participant_id=participant.id, event_id=poll.event_id, poll_id=poll.id, ballot=ballot, ref=ref
    )


def refused(poll: Poll, ballot: Ballot) -> str:
    with pytest.raises(DomainError) as err:
        cast(poll, ballot)
    return err.value.code


def detail(poll: Poll) -> dict:
    return tallies.tally(Poll.objects.get(pk=poll.id)).public


# --------------------------------------------------------------- multi


def test_multiple_choice_respects_max_choices(world):
    poll = open_poll(world, kind="multi", labels=("A", "B", "C"), max_choices=2)
    a, b, c = option_ids(poll)
    cast(poll, Ballot(options=(c, a)))
    assert refused(poll, Ballot(options=(a, b, c))) == "too_many_options"
    assert refused(poll, Ballot(options=())) == "no_option"
    assert refused(poll, Ballot(value=3)) == "no_option"
    assert detail(poll)["counts"] == {str(a): 1, str(b): 0, str(c): 1}
    assert tallies.tally(poll).total == 1


def test_multiple_choice_without_limit_takes_every_option(world):
    poll = open_poll(world, kind="multi", labels=("A", "B", "C"))
    cast(poll, Ballot(options=tuple(option_ids(poll))))
    assert set(detail(poll)["counts"].values()) == {1}


# --------------------------------------------------------------- likert


def test_likert_distribution_mean_and_median_in_scale_order(world):
    poll = open_poll(world, kind="likert", labels=SCALE)
    ids = option_ids(poll)
    for point in (5, 5, 5, 4, 1):
        cast(poll, Ballot(options=(ids[point - 1],)))
    result = detail(poll)
    assert list(result["counts"]) == [str(i) for i in ids]  # scale order kept
    assert result["counts"][str(ids[4])] == 3
    assert result["scale"] == {"mean": 4.0, "median": 5, "points": 5}
    assert refused(poll, Ballot(options=(ids[0], ids[1]))) == "too_many_options"


def test_likert_with_no_votes_and_with_one_vote(world):
    poll = open_poll(world, kind="likert", labels=SCALE)
    assert detail(poll)["scale"] == {"mean": None, "median": None, "points": 5}
    cast(poll, Ballot(options=(option_ids(poll)[2],)))
    assert detail(poll)["scale"] == {"mean": 3.0, "median": 3, "points": 5}


def test_likert_median_of_a_tie_is_between_the_points(world):
    poll = open_poll(world, kind="likert", labels=SCALE)
    ids = option_ids(poll)
    cast(poll, Ballot(options=(ids[1],)))
    cast(poll, Ballot(options=(ids[2],)))
    assert detail(poll)["scale"]["median"] == 2.5


# --------------------------------------------------------------- numeric


def test_numeric_range_histogram_and_median(world):
    poll = open_poll(world, kind="numeric", labels=(), numeric_min=0, numeric_max=24, numeric_unit="months")
    for value in (6, 6, 3, 12, 24):
        cast(poll, Ballot(value=value))
    assert refused(poll, Ballot(value=25)) == "out_of_range"
    assert refused(poll, Ballot(value=-1)) == "out_of_range"
    assert refused(poll, Ballot()) == "invalid_value"
    assert refused(poll, Ballot(value=float("nan"))) == "invalid_value"
    assert refused(poll, Ballot(options=(1,), value=3)) == "invalid_option"
    result = detail(poll)["numeric"]
    assert result["n"] == 5 and result["median"] == 6 and result["mean"] == 10.2 and result["unit"] == "months"
    assert sum(b["count"] for b in result["histogram"]) == 5
    assert result["histogram"][0]["from"] == 0 and result["histogram"][-1]["to"] == 24
    assert result["histogram"][-1]["count"] == 1  # the maximum falls in the last bin


def test_numeric_without_votes_or_with_identical_values(world):
    poll = open_poll(world, kind="numeric", labels=())
    assert detail(poll)["numeric"]["n"] == 0
    cast(poll, Ballot(value=6))
    cast(poll, Ballot(value=6))
    result = detail(poll)["numeric"]
    assert result["histogram"] == [{"from": 6, "to": 6, "count": 2}] and result["median"] == 6


# --------------------------------------------------------------- text


def test_free_text_is_bounded_cleaned_and_moderated(world):
    moderator, event = world.moderator, world.event
    poll = open_poll(world, kind="text", labels=(), text_max_length=40)
    outcome = cast(poll, Ballot(text="  Cytogenetics\u0000 and   distance to centre "))
    assert outcome.ballot.text == "Cytogenetics and distance to centre"
    assert refused(poll, Ballot(text="x" * 41)) == "text_too_long"
    assert refused(poll, Ballot(text="   ")) == "invalid_value"
    assert refused(poll, Ballot()) == "invalid_value"
    cast(poll, Ballot(text="Distance to the CAR T centre"))
    public, private = tallies.tally(poll).public, tallies.tally(poll).moderator
    assert public["answers"] == [] and private["pending"] == 2
    answer = Vote.objects.get(poll=poll, value_text="Distance to the CAR T centre")
    services.answer_moderate(event_id=event.id, answer_id=answer.id, approve=True, user=moderator)
    public = tallies.tally(poll).public
    assert public["answers"] == [{"id": answer.id, "text": "Distance to the CAR T centre"}]
    words = {w["word"]: w["count"] for w in public["words"]}
    assert words == {"distance": 1, "CAR T": 1, "centre": 1}  # stop words dropped, "CAR T" kept whole


def test_changed_text_answer_goes_back_to_moderation(world):
    moderator, event = world.moderator, world.event
    poll = open_poll(world, kind="text", labels=())
    participant = make_participant(event)
    cast(poll, Ballot(text="first"), participant, ref="1")
    vote = Vote.objects.get(poll=poll)
    services.answer_moderate(event_id=event.id, answer_id=vote.id, approve=True, user=moderator)
    cast(poll, Ballot(text="second thoughts"), participant, ref="2")
    assert Vote.objects.get(pk=vote.id).text_status == AnswerStatus.PENDING


def test_answer_moderation_refuses_other_events_and_non_text_polls(world):
    moderator, event = world.moderator, world.event
    single = open_poll(world)
    cast(single, Ballot(options=(option_ids(single)[0],)))
    with pytest.raises(DomainError) as err:
        services.answer_moderate(event_id=event.id, answer_id=Vote.objects.get().id, approve=True, user=moderator)
    assert err.value.code == "unknown_answer"


# --------------------------------------------------------------- ranking


def test_ranking_mean_rank_and_borda(world):
    poll = open_poll(world, kind="ranking", labels=("CAR T", "Bispecific", "ADC"))
    car_t, bispecific, adc = option_ids(poll)
    cast(poll, Ballot(options=(car_t, bispecific, adc)))
    cast(poll, Ballot(options=(car_t, adc, bispecific)))
    cast(poll, Ballot(options=(bispecific, car_t, adc)))
    ranking = detail(poll)["ranking"]
    assert ranking[0] == {"option": car_t, "mean_rank": 1.33, "borda": 5}
    assert {r["option"]: r["borda"] for r in ranking} == {car_t: 5, bispecific: 3, adc: 1}
    assert refused(poll, Ballot(options=(car_t, bispecific))) == "incomplete_ranking"


def test_ranking_tie_and_no_votes(world):
    poll = open_poll(world, kind="ranking", labels=("A", "B"))
    a, b = option_ids(poll)
    assert [r["borda"] for r in detail(poll)["ranking"]] == [0, 0]
    cast(poll, Ballot(options=(a, b)))
    cast(poll, Ballot(options=(b, a)))
    assert {r["borda"] for r in detail(poll)["ranking"]} == {1}


def test_ranking_ballot_order_is_kept_when_echoed(world):
    poll = open_poll(world, kind="ranking", labels=("A", "B", "C"))
    a, b, c = option_ids(poll)
    participant = make_participant(poll.event)
    outcome = cast(poll, Ballot(options=(c, a, b)), participant)
    assert outcome.ballot.options == (c, a, b)
    assert selectors.participant_ballots(participant_id=participant.id)[poll.id] == {"options": [c, a, b]}


# --------------------------------------------------------------- confidence


def test_confidence_per_option(world):
    poll = open_poll(world, ask_confidence=True)
    first, second = option_ids(poll)
    cast(poll, Ballot(options=(first,), confidence=5))
    cast(poll, Ballot(options=(first,), confidence=3))
    cast(poll, Ballot(options=(second,)))  # confidence stays optional
    assert refused(poll, Ballot(options=(first,), confidence=6)) == "bad_request"
    assert detail(poll)["confidence"] == {str(first): {"mean": 4.0, "n": 2}}


def test_confidence_refused_when_not_asked(world):
    poll = open_poll(world)
    assert refused(poll, Ballot(options=(option_ids(poll)[0],), confidence=3)) == "bad_request"


# --------------------------------------------------------------- idempotency per kind


def test_same_ref_same_numeric_answer_is_one_vote_and_conflict_otherwise(world):
    poll = open_poll(world, kind="numeric", labels=())
    participant = make_participant(poll.event)
    first = cast(poll, Ballot(value=6), participant, ref="n1")
    again = cast(poll, Ballot(value=6), participant, ref="n1")
    assert first.ballot == again.ballot and not again.changed
    with pytest.raises(DomainError) as err:
        cast(poll, Ballot(value=7), participant, ref="n1")
    assert err.value.code == "idempotency_conflict"
    assert Vote.objects.get(poll=poll).value_number == 6


# --------------------------------------------------------------- preferred answer, reset, duplicate


def test_preferred_answer_is_hidden_until_revealed(world):
    moderator, event = world.moderator, world.event
    poll = open_poll(world, preferred_rationale="IMWG favours CAR T before a BCMA bispecific.")
    preferred = poll.options.first()
    preferred.is_preferred = True
    preferred.save()
    state = outbound.state_frames(event_id=event.id)
    assert "preferred" not in state["public"]["poll"]
    assert state["moderator"]["poll"]["preferred"] == {
        "options": [preferred.id],
        "rationale": "IMWG favours CAR T before a BCMA bispecific.",
        "revealed": False,
    }
    services.preferred_reveal(event_id=event.id, poll_id=poll.id, user=moderator)
    public = outbound.state_frames(event_id=event.id)["public"]["poll"]
    assert public["preferred"]["options"] == [preferred.id] and public["preferred"]["revealed"] is True


def test_reset_needs_a_closed_poll_and_deletes_every_ballot(world):
    moderator, event = world.moderator, world.event
    poll = open_poll(world)
    cast(poll, Ballot(options=(option_ids(poll)[0],)))
    with pytest.raises(DomainError) as err:
        services.poll_reset(event_id=event.id, poll_id=poll.id, user=moderator)
    assert err.value.code == "invalid_transition"
    services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
    services.poll_reset(event_id=event.id, poll_id=poll.id, user=moderator)
    assert tallies.tally(poll).total == 0
    assert event.audit_log.filter(action="reset_poll", user=moderator).exists()


def test_duplicate_copies_question_settings_and_options_as_a_draft(world):
    moderator, event = world.moderator, world.event
    poll = open_poll(world, kind="multi", max_choices=1, labels=("A", "B"))
    copy = services.poll_duplicate(event_id=event.id, poll_id=poll.id, user=moderator)
    assert copy.state == "draft" and copy.kind == "multi" and copy.max_choices == 1
    assert [o.label for o in copy.options.all()] == ["A", "B"]
    assert copy.votes.count() == 0


def test_results_of_every_kind_are_withheld_from_the_public_until_revealed(world):
    moderator, event = world.moderator, world.event
    for kind, labels, ballot in [
        ("likert", SCALE, lambda p: Ballot(options=(option_ids(p)[0],))),
        ("numeric", (), lambda p: Ballot(value=4)),
        ("ranking", ("A", "B"), lambda p: Ballot(options=tuple(option_ids(p)))),
    ]:
        poll = open_poll(world, kind=kind, labels=labels)
        cast(poll, ballot(poll))
        frames = outbound.results_frames(poll=Poll.objects.get(pk=poll.id))
        assert set(frames["public"]) == {"type", "poll", "total", "version"}
        assert len(frames["moderator"]) > 4
        services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
        services.results_reveal(event_id=event.id, poll_id=poll.id, user=moderator)
        frames = outbound.results_frames(poll=Poll.objects.get(pk=poll.id))
        private = {k: v for k, v in frames["moderator"].items() if k != "segments"}  # no profile asked
        assert frames["public"] == private
