"""Ballots written in batches (group commit): each decided as if alone, a fixed number of queries per batch."""

import uuid

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from polls import services
from polls.ballots import Ballot
from polls.errors import DomainError
from polls.models import PollKind, Vote, VoteChoice, VoteReceipt
from tests.factories import build_world, make_event, make_participant, make_poll, option_ids


def request(participant, poll, options=(), ref=None, **ballot):
    return services.VoteRequest(
        participant_id=participant.id,
        event_id=participant.event_id,
        poll_id=poll.id,
        ref=ref or uuid.uuid4().hex[:12],
        ballot=Ballot(options=tuple(options), **ballot),
    )


def open_poll_world():
    """A moderator, a case, an event and an open poll on it."""
    w = build_world(opened=True)
    return w.moderator, w.case, w.event, w.poll


@pytest.fixture
def world(db):
    return open_poll_world()


@pytest.mark.django_db
def test_each_ballot_of_a_batch_is_decided_as_if_cast_alone(world):
    moderator, case, event, poll = world
    a, b = option_ids(poll)[:2]
    closed = make_poll(event, case, question="Closed one")
    services.poll_open(event_id=event.id, poll_id=closed.id, user=moderator)
    services.poll_close(event_id=event.id, poll_id=closed.id, user=moderator)
    other_event = make_event(cases=[case])
    foreign = make_poll(other_event, case)
    p1, p2, p3, p4 = (make_participant(event) for _ in range(4))

    outcomes = services.votes_cast(
        [
            request(p1, poll, [a], ref="r1"),
            request(p2, poll, [999_999]),  # not an option of the poll
            request(p3, closed, [option_ids(closed)[0]]),
            request(p3, foreign, [option_ids(foreign)[0]]),  # another event's poll
            request(p1, poll, [a], ref="r1"),  # a resend inside the same batch
            request(p1, poll, [b], ref="r1"),  # same ref, another ballot
            request(p2, poll, [a]),
            request(p2, poll, [b]),  # changed within the batch: the later ballot stands
            request(p4, poll, [a, b]),  # a single-choice poll
        ]
    )
    kinds = [o.code if isinstance(o, DomainError) else o.option_ids for o in outcomes]
    assert kinds == [
        (a,),
        "invalid_option",
        "poll_closed",
        "unknown_poll",
        (a,),
        "idempotency_conflict",
        (a,),
        (b,),
        "too_many_options",
    ]
    assert outcomes[0].changed and not outcomes[4].changed
    assert dict(Vote.objects.filter(poll=poll).values_list("participant_id", "choices__option_id")) == {
        p1.id: a,
        p2.id: b,
    }
    assert VoteChoice.objects.filter(poll=poll).count() == 2
    assert VoteReceipt.objects.filter(poll=poll).count() == 3  # r1, p2's two ballots
    assert not Vote.objects.filter(poll__in=[closed, foreign]).exists()


@pytest.mark.django_db
def test_a_batch_costs_the_same_queries_whatever_its_size(world):
    _, _, event, poll = world
    a, b = option_ids(poll)[:2]

    def queries(n, options):
        participants = [make_participant(event) for _ in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            outcomes = services.votes_cast([request(p, poll, options) for p in participants])
        assert all(not isinstance(o, DomainError) for o in outcomes)
        return len(ctx.captured_queries), participants

    small, _ = queries(3, [a])
    large, voters = queries(60, [a])
    assert small == large
    with CaptureQueriesContext(connection) as ctx:
        services.votes_cast([request(p, poll, [b]) for p in voters])  # every ballot changed
    assert len(ctx.captured_queries) <= large + 2
    assert Vote.objects.filter(poll=poll).count() == 63
    assert VoteChoice.objects.filter(poll=poll, option_id=b).count() == 60


@pytest.mark.django_db
def test_rewritten_ballots_keep_their_rows_and_go_back_to_moderation(world):
    moderator, case, event, _ = world
    poll = make_poll(event, case, question="Your view?", kind=PollKind.TEXT, labels=())
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    participant = make_participant(event)
    (first,) = services.votes_cast([request(participant, poll, text="Refer early")])
    vote = Vote.objects.get(poll=poll)
    services.answer_moderate(event_id=event.id, answer_id=vote.id, approve=True, user=moderator)
    services.votes_cast([request(participant, poll, text="Refer  early"), request(participant, poll, text="Trial")])
    again = Vote.objects.get(poll=poll)
    assert again.id == vote.id and again.value_text == "Trial" and again.text_status == "pending"
    assert again.updated_at > vote.updated_at and again.created_at == vote.created_at
    assert first.ballot.text == "Refer early"


@pytest.mark.django_db
def test_a_batch_broken_by_a_deadlock_is_decided_again_and_other_failures_surface(world, monkeypatch):
    from polls.services import votes

    _, _, event, poll = world
    participant = make_participant(event)
    real = votes._votes_cast_once
    raised = []

    def deadlock_once(requests):
        if not raised:
            raised.append(1)
            exc = OperationalError("deadlock detected")
            exc.__cause__ = type("PgError", (Exception,), {"sqlstate": "40P01"})()
            raise exc
        return real(requests)

    monkeypatch.setattr(votes, "_votes_cast_once", deadlock_once)
    (outcome,) = services.votes_cast([request(participant, poll, option_ids(poll)[:1])])
    assert raised and outcome.changed and Vote.objects.filter(poll=poll).count() == 1

    def locked(requests):
        raise OperationalError("database is locked")

    monkeypatch.setattr(votes, "_votes_cast_once", locked)
    with pytest.raises(OperationalError):
        services.votes_cast([request(participant, poll, option_ids(poll)[1:])])


@pytest.mark.django_db(transaction=True)
def test_a_broadcast_failing_after_commit_does_not_turn_committed_ballots_into_errors(monkeypatch):
    from polls.live.broadcast import LiveBroadcast

    _, _, event, poll = open_poll_world()

    def broken(self, **kwargs):
        raise OSError("no route to the channel layer")

    monkeypatch.setattr(LiveBroadcast, "results_changed", broken)
    (outcome,) = services.votes_cast([request(make_participant(event), poll, option_ids(poll)[:1])])
    assert not isinstance(outcome, DomainError) and outcome.changed
    assert Vote.objects.filter(poll=poll).count() == 1
