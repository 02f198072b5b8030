"""Poll purposes and the ready-made evaluation polls (issue 15, first part)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from polls import demo, services
from polls.errors import DomainError
from polls.models import ModeratorAction, PollPurpose
from polls.services.authoring import STANDARD_POLLS
from tests.factories import make_event, make_moderator

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_event():
    return demo.load_demo(password="demo-password-for-tests").event


def test_the_standard_evaluation_is_added_in_one_step_once(demo_event):
    before = demo_event.polls.count()
    added = services.standard_polls_add(event_id=demo_event.id, user=None)
    assert [p.question for p in added] == [spec["question"] for spec in STANDARD_POLLS]
    assert [p.purpose for p in added] == [PollPurpose.EVALUATION] * 4 + [PollPurpose.INTENT] * 2
    assert all(p.state == "draft" and p.case == demo_event.cases.get() for p in added)
    assert [o.label for o in added[0].options.all()][::4] == ["Strongly disagree", "Strongly agree"]
    assert min(p.position for p in added) > max(
        p.position for p in demo_event.polls.exclude(pk__in=[p.pk for p in added])
    )
    assert services.standard_polls_add(event_id=demo_event.id, user=None) == []  # again: nothing twice
    assert demo_event.polls.count() == before + 6
    assert ModeratorAction.objects.filter(event=demo_event, action="add_standard_polls").count() == 1


def test_without_a_case_the_evaluation_says_what_to_do_first():
    event = make_event(cases=[], moderators=[make_moderator()])
    with pytest.raises(DomainError) as refused:
        services.standard_polls_add(event_id=event.id, user=None)
    assert "agenda" in refused.value.message


def test_the_next_round_of_a_pre_question_is_its_post(demo_event):
    pre = demo_event.polls.get(position=1)
    pre.purpose = PollPurpose.PRE
    pre.save()
    post = services.poll_new_round(event_id=demo_event.id, poll_id=pre.id, user=None)
    assert (post.purpose, post.round_of_id, post.question) == (PollPurpose.POST, pre.id, pre.question)


def test_the_admin_adds_the_evaluation(admin_client, demo_event):
    response = admin_client.post(
        reverse("admin:polls_event_changelist"),
        {"action": "add_standard_polls", "_selected_action": [demo_event.pk]},
        follow=True,
    )
    assert response.status_code == 200 and "have the standard evaluation polls" in response.content.decode()
    assert demo_event.polls.filter(purpose=PollPurpose.EVALUATION).count() == 4
