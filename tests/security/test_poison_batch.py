"""A poison ballot fails alone: the other ballots of its batch are recorded and acked."""

from __future__ import annotations

import pytest
from django.db import DataError

from polls import services
from polls.ballots import Ballot
from polls.errors import DomainError
from polls.models import Poll, Vote
from polls.services import votes
from tests.factories import make_case, make_event, make_moderator, make_participant

pytestmark = pytest.mark.django_db


def numeric_world():
    moderator = make_moderator()
    case = make_case()
    event = make_event(moderators=[moderator], cases=[case])
    poll = Poll.objects.create(event=event, case=case, kind="numeric", question="Months?")
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    return event, poll


def request(event, poll, value, ref):
    return services.VoteRequest(
        participant_id=make_participant(event).id,
        event_id=event.id,
        poll_id=poll.id,
        ref=ref,
        ballot=Ballot(value=value),
    )


def test_a_401_digit_number_fails_alone_in_its_batch():
    event, poll = numeric_world()
    batch = [request(event, poll, 12, "a"), request(event, poll, 10**401, "poison"), request(event, poll, 7.5, "b")]
    outcomes = services.votes_cast(batch)
    assert [type(o).__name__ for o in outcomes] == ["VoteOutcome", "DomainError", "VoteOutcome"]
    assert outcomes[1].code == "out_of_range"
    assert sorted(Vote.objects.filter(poll=poll).values_list("value_number", flat=True)) == [7.5, 12.0]


def test_a_value_the_database_refuses_fails_alone(monkeypatch):
    """If the database refuses a batch (DataError), each ballot is tried alone."""
    event, poll = numeric_world()
    batch = [request(event, poll, 1, "a"), request(event, poll, 2, "bad"), request(event, poll, 3, "b")]
    real = votes._votes_cast_once

    def refusing(requests):
        if any(r.ref == "bad" for r in requests):
            raise DataError("value out of range for the column")
        return real(requests)

    monkeypatch.setattr(votes, "_votes_cast_once", refusing)
    outcomes = services.votes_cast(batch)
    assert isinstance(outcomes[1], DomainError) and outcomes[1].code == "invalid_value"
    assert not isinstance(outcomes[0], DomainError) and not isinstance(outcomes[2], DomainError)
    assert Vote.objects.filter(poll=poll).count() == 2
