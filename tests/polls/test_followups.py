"""The follow-up survey (issue 15, Moore's level 5): addresses apart from the ballots, one signed
single-use link per address, the answers in the outcomes report, addresses erased at closing."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from polls.models import (
    Event,
    EventStatus,
    FollowUpAnswer,
    FollowUpContact,
    FollowUpResponse,
    PollPurpose,
    PollState,
)
from polls.services.followups import FOLLOWUP_OPEN_DAYS
from tests.factories import make_case, make_event, make_moderator, make_poll

pytestmark = pytest.mark.django_db

BASE = "https://vote.example.org"
ADDRESSES = [f"doctor{i}@example.org" for i in range(6)]


@pytest.fixture
def event():
    moderator = make_moderator()
    case = make_case()
    event = make_event(moderators=[moderator], cases=[case], status=EventStatus.ENDED, followup_days=30)
    Event.objects.filter(pk=event.pk).update(ended_at=timezone.now())
    intent = make_poll(
        event, case, labels=("Yes, I changed it", "Not yet"), purpose=PollPurpose.INTENT, state=PollState.CLOSED,
        question="Will you refer eligible patients for CAR T earlier?",
    )  # fmt: skip
    make_poll(
        event, case, labels=(), kind="text", purpose=PollPurpose.COMMITMENT, state=PollState.CLOSED,
        question="What will you change?",
    )  # fmt: skip
    make_poll(event, case, purpose=PollPurpose.DECISION, state=PollState.CLOSED, question="Not followed up")
    event.refresh_from_db()
    event.intent = intent
    event.moderator = moderator
    return event


def _sign_up(client, event, emails=ADDRESSES):
    for email in emails:
        response = client.post(reverse("event-followup", args=[event.code]), {"email": email})
        assert response.status_code == 200 and "You will get one email" in response.content.decode()


def _days_since_end(event, days: float) -> None:
    Event.objects.filter(pk=event.pk).update(ended_at=timezone.now() - timedelta(days=days))


def _send(capsys) -> str:
    call_command("send_followups", base_url=BASE)
    return capsys.readouterr().out


def _links(message) -> tuple[str, str]:
    answer = re.search(rf"{BASE}(/f/[^/\s]+/)\n", message.body).group(1)
    unsubscribe = re.search(rf"{BASE}(/f/[^/\s]+/unsubscribe/)", message.body).group(1)
    return answer, unsubscribe


def test_no_table_can_join_an_address_to_a_participant_a_ballot_or_its_answers():
    for model in (FollowUpContact, FollowUpResponse):
        relations = {f.related_model.__name__ for f in model._meta.get_fields() if f.is_relation and f.concrete}
        assert relations == {"Event"}, model
    for model in apps.get_models():
        for f in model._meta.get_fields():
            if f.is_relation and f.concrete and f.related_model is FollowUpContact:
                pytest.fail(f"{model.__name__}.{f.name} points at a follow-up contact")
    assert {f.name for f in FollowUpResponse._meta.concrete_fields} == {"id", "event", "submitted_on"}


def test_invitations_go_out_when_due_each_once_with_a_link_and_an_unsubscribe(client, event, capsys, caplog):
    _sign_up(client, event)
    _sign_up(client, event, ["DOCTOR0@example.org"])  # the same address again: same answer, kept once
    assert FollowUpContact.objects.count() == 6
    _days_since_end(event, 29)
    assert "0 invitations sent" in _send(capsys) and not mail.outbox  # not due yet
    _days_since_end(event, 30.5)
    with caplog.at_level(logging.DEBUG):
        out = _send(capsys)
    assert "6 invitations sent" in out and len(mail.outbox) == 6
    assert sorted(m.to[0] for m in mail.outbox) == sorted(ADDRESSES)
    for message in mail.outbox:
        answer, unsubscribe = _links(message)
        assert message.extra_headers["List-Unsubscribe"] == f"<{BASE}{unsubscribe}>"
    assert "0 invitations sent" in _send(capsys) and len(mail.outbox) == 6  # never twice
    everything = out + caplog.text
    assert not any(address in everything for address in ADDRESSES)


def test_a_participant_answers_once_and_the_outcomes_report_counts_it(client, event, capsys):
    _sign_up(client, event)
    _days_since_end(event, 31)
    _send(capsys)
    yes, not_yet = event.intent.options.values_list("id", flat=True)
    text_poll = event.polls.get(kind="text")
    for index, message in enumerate(mail.outbox[:5]):
        answer, _ = _links(message)
        page = client.get(answer)
        assert page.status_code == 200 and "Did you change your practice?" in page.content.decode()
        assert "Not followed up" not in page.content.decode()  # decisions are not asked again
        choice = yes if index < 4 else not_yet
        posted = client.post(
            answer, {f"poll-{event.intent.id}": str(choice), f"poll-{text_poll.id}": "Earlier referral to CAR T"}
        )
        assert posted.status_code == 200 and "Your answers were saved" in posted.content.decode()
    assert FollowUpResponse.objects.count() == 5 and FollowUpAnswer.objects.count() == 10
    # The link is single-use: a second visit or post stores nothing.
    reused, _ = _links(mail.outbox[0])
    again = client.post(reused, {f"poll-{event.intent.id}": str(yes)})
    assert again.status_code == 410 and "already used" in again.content.decode()
    assert FollowUpResponse.objects.count() == 5
    client.force_login(event.moderator)
    text = " ".join(client.get(reverse("event-outcomes", args=[event.code])).content.decode().split())
    assert "Follow-up after 30 days: 6 left an email, 6 were invited, 5 answered (response rate 83.3%)." in text
    assert 'Yes, I changed it</td><td class="num">4</td><td class="num">80.0%' in text
    assert "Themes (most frequent words): " in text and "CAR T (5)" in text
    assert (
        '<td>5</td><td>Performance (follow-up)</td><td class="num">5</td>'
        "<td>5 of 6 invited answered the follow-up</td>" in text
    )


@pytest.mark.parametrize(
    "tamper",
    [
        lambda link: link[:-3] + ("x" if link[-3] != "x" else "y") + link[-2:],  # altered signature
        lambda link: "/f/not-a-token/",
        lambda link: link.replace("/f/", "/f/A"),
    ],
)
def test_a_forged_link_is_refused_and_stores_nothing(client, event, capsys, tamper):
    _sign_up(client, event, ADDRESSES[:1])
    _days_since_end(event, 31)
    _send(capsys)
    answer, _ = _links(mail.outbox[0])
    forged = tamper(answer)
    response = client.post(forged, {f"poll-{event.intent.id}": str(event.intent.options.first().id)})
    assert response.status_code == 410 and "not valid" in response.content.decode()
    assert not FollowUpResponse.objects.exists()


def test_an_invalid_answer_says_why_and_leaves_the_link_usable(client, event, capsys):
    _sign_up(client, event, ADDRESSES[:1])
    _days_since_end(event, 31)
    _send(capsys)
    answer, _ = _links(mail.outbox[0])
    for bad in ({f"poll-{event.intent.id}": "999999"}, {f"poll-{event.intent.id}": "abc"}, {}):
        response = client.post(answer, bad)
        assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    assert not FollowUpResponse.objects.exists() and not FollowUpContact.objects.get().responded
    assert client.get(answer).status_code == 200


def test_after_the_follow_up_closes_the_link_is_refused_and_the_addresses_are_erased(client, event, capsys):
    _sign_up(client, event, ADDRESSES[:2])
    _days_since_end(event, 31)
    _send(capsys)
    answer, _ = _links(mail.outbox[0])
    _days_since_end(event, 30 + FOLLOWUP_OPEN_DAYS + 1)
    response = client.post(answer, {f"poll-{event.intent.id}": str(event.intent.options.first().id)})
    assert response.status_code == 410 and "This follow-up closed on" in response.content.decode()
    assert not FollowUpResponse.objects.exists()
    assert "2 addresses erased" in _send(capsys)
    assert list(FollowUpContact.objects.values_list("email", flat=True)) == ["", ""]
    assert FollowUpContact.objects.filter(invited_at__isnull=False).count() == 2  # the rate can still be counted


def test_unsubscribing_erases_the_address_at_once(client, event, capsys):
    _sign_up(client, event, ADDRESSES[:1])
    _days_since_end(event, 31)
    _send(capsys)
    _, unsubscribe = _links(mail.outbox[0])
    assert client.get(unsubscribe).status_code == 200 and FollowUpContact.objects.get().email  # GET only asks
    done = client.post(unsubscribe)
    assert done.status_code == 200 and "your address was deleted" in done.content.decode()
    contact = FollowUpContact.objects.get()
    assert contact.email == "" and contact.unsubscribed


@pytest.mark.parametrize(
    "email, message", [("not-an-email", "Enter a valid email address"), ("", "This field is required")]
)
def test_a_bad_address_is_refused_with_the_reason(client, event, email, message):
    response = client.post(reverse("event-followup", args=[event.code]), {"email": email})
    assert response.status_code == 400 and message in response.content.decode()
    assert not FollowUpContact.objects.exists()


def test_no_sign_up_once_the_follow_up_was_sent_or_where_there_is_none(client, event):
    _days_since_end(event, 31)
    response = client.post(reverse("event-followup", args=[event.code]), {"email": ADDRESSES[0]})
    assert response.status_code == 400 and "already been sent" in response.content.decode()
    Event.objects.filter(pk=event.pk).update(followup_days=None)
    assert client.get(reverse("event-followup", args=[event.code])).status_code == 404
    assert not FollowUpContact.objects.exists()


def test_fewer_answers_than_the_minimum_cell_are_counted_but_not_shown(client, event, capsys):
    _sign_up(client, event, ADDRESSES[:2])
    _days_since_end(event, 31)
    _send(capsys)
    answer, _ = _links(mail.outbox[0])
    client.post(answer, {f"poll-{event.intent.id}": str(event.intent.options.first().id)})
    client.force_login(event.moderator)
    text = " ".join(client.get(reverse("event-outcomes", args=[event.code])).content.decode().split())
    assert "2 were invited, 1 answered (response rate 50.0%)" in text
    level5 = text.split("Level 5: Performance")[1]
    assert "Fewer than 5 answered: the answers are not shown." in level5 and "Yes, I changed it" not in level5


def test_the_invitation_is_written_in_the_sign_up_pages_language_else_the_events(client, event, capsys):
    """Issue 18: a participant who left the address on a Spanish page gets a Spanish mail; an
    address kept without a language (left before it was stored) gets the event's."""
    Event.objects.filter(pk=event.pk).update(language="de")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    signed = client.post(reverse("event-followup", args=[event.code]), {"email": "medica@example.org"})
    assert signed.status_code == 200 and '<html lang="es"' in signed.content.decode()
    FollowUpContact.objects.create(event=event, email="old@example.org")  # no language kept
    _days_since_end(event, 31)
    _send(capsys)
    by_address = {m.to[0]: m for m in mail.outbox}
    spanish, german = by_address["medica@example.org"], by_address["old@example.org"]
    assert spanish.subject.startswith("Seguimiento:") and "Hola:" in spanish.body
    assert german.subject.startswith("Nachbefragung:") and "Guten Tag," in german.body
    assert "Did the discussion change" not in spanish.body + german.body
    # The answer page follows its reader (here the Spanish cookie), with the questions in their case's language.
    answer, _ = _links(spanish)
    page = client.get(answer).content.decode()
    assert "¿Ha cambiado su práctica?" in page
    assert f'<legend lang="{event.intent.case.language}">' in page
