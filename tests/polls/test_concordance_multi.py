"""Concordance on multiple choice (ballots whose every ticked option is preferred), and the word cloud's terms."""

import pytest

from polls import comparisons, services
from polls.ballots import Ballot
from polls.models import Poll
from tests.factories import build_world, make_participant, option_ids

pytestmark = pytest.mark.django_db


def test_a_multiple_choice_ballot_agrees_only_if_it_ticked_nothing_but_preferred_options():
    w = build_world(kind="multi", labels=("CAR T", "Bispecific", "Doublet"), max_choices=3, opened=True)
    a, b, c = option_ids(w.poll)
    Poll.objects.get(pk=w.poll.id).options.filter(pk=a).update(is_preferred=True)
    for n, options in enumerate([(a,), (a,), (a, b), (b,), (a, c)]):
        participant = make_participant(w.event)
        services.vote_cast(
            participant_id=participant.id,
            event_id=w.event.id,
            poll_id=w.poll.id,
            ref=f"r{n}",
            ballot=Ballot(options=options),
        )
    detail = comparisons.panel_and_concordance(Poll.objects.get(pk=w.poll.id), 5, k=5)
    assert detail["concordance"]["preferred"] == {"share": 0.4, "agreeing": 2}


def test_the_word_cloud_keeps_clinical_terms_and_abbreviations():
    from polls.tallies import word_cloud

    words = {
        w["word"]: w["count"]
        for w in word_cloud(["Refer for CAR T early", "car-t slots", "BCMA exposure before CAR-T", "No car, far away"])
    }
    assert words["CAR T"] == 3 and words["BCMA"] == 1 and words["car"] == 1  # the vehicle stays a word
    assert "t" not in words and "bcma" not in words
