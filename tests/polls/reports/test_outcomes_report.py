"""The report's outcomes on Moore's levels (issue 15), from the one tally."""

from __future__ import annotations

import pytest
from django.urls import reverse

from polls.demo_replay import replay_demo
from polls.models import Poll, PollPurpose
from polls.reports import build

pytestmark = pytest.mark.django_db


def test_pre_and_post_read_as_knowledge_and_the_decisions_as_competence(client):
    replay = replay_demo()
    first = replay.event.polls.get(round_of=None, position=1)
    Poll.objects.filter(pk=first.pk).update(purpose=PollPurpose.PRE)
    Poll.objects.filter(round_of=first).update(purpose=PollPurpose.POST)
    levels = {level.level: level for level in build.event_report(event=replay.event).outcomes}
    assert levels["1"].lines[0] == "10 participants joined."
    [knowledge] = levels["3"].lines
    assert "70% before the teaching, 90% after (+20 points)" in knowledge
    assert levels["2"].lines == ["No poll of this event measures it."]
    assert "follow-up" in levels["5"].lines[0]
    client.force_login(replay.event.moderators.get())
    page = client.get(reverse("event-report", kwargs={"code": replay.event.code})).content.decode()
    assert "Level 3: Knowledge (pre and post)" in page and "(+20 points)" in page


def test_a_decision_poll_counts_as_competence():
    replay = replay_demo()
    levels = {level.level: level for level in build.event_report(event=replay.event).outcomes}
    assert any("70% chose the evidence-preferred answer" in line for line in levels["4"].lines)
