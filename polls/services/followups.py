"""The follow-up survey (Moore's level 5, issue 15): addresses kept apart from the ballots.

A participant may leave an email; `followup_days` (30, 60 or 90) after the event's end, the
`send_followups` command mails each address one invitation with a signed, single-use link and an
unsubscribe link. The survey asks the event's commitment and intent-to-change polls again. It
closes FOLLOWUP_OPEN_DAYS after it opened; then the command erases every address of the event.

Nothing here is given a participant, and nothing is logged with an address in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from polls.errors import DomainError
from polls.models import (
    Event,
    EventStatus,
    FollowUpAnswer,
    FollowUpContact,
    FollowUpResponse,
    Poll,
    PollKind,
    PollPurpose,
    PollState,
)

FOLLOWUP_OPEN_DAYS = 30  # how long the survey takes answers once sent; the addresses go then
LINK_SALT = "caseboard.followup.answer"
UNSUBSCRIBE_SALT = "caseboard.followup.unsubscribe"
FOLLOWUP_PURPOSES = (PollPurpose.COMMITMENT, PollPurpose.INTENT)
FOLLOWUP_KINDS = (PollKind.SINGLE, PollKind.LIKERT, PollKind.MULTI, PollKind.TEXT)


def opens_at(event: Event) -> datetime | None:
    """When the follow-up's invitations go out: `followup_days` after the event ended."""
    if event.followup_days is None or event.ended_at is None:
        return None
    return event.ended_at + timedelta(days=event.followup_days)


def closes_at(event: Event) -> datetime | None:
    opening = opens_at(event)
    return None if opening is None else opening + timedelta(days=FOLLOWUP_OPEN_DAYS)


def followup_polls(event: Event) -> list[Poll]:
    """The polls the follow-up asks again: the event's commitments and intents that were asked."""
    return list(
        Poll.objects.filter(event=event, purpose__in=FOLLOWUP_PURPOSES, kind__in=FOLLOWUP_KINDS, round_of=None)
        .exclude(state=PollState.DRAFT)
        .select_related("case")  # its language marks the questions on the answer page
        .prefetch_related("options")
        .order_by("position", "id")
    )


# ------------------------------------------------------------------ signing up


def followup_signup(*, event_id: int, email: str, language: str = "", now: datetime | None = None) -> None:
    """The event has a follow-up not yet sent; the address is kept for it (once per address).

    A second sign-up with the same address stores nothing and says nothing different: telling
    "already registered" apart would let anyone test whether a colleague attended. `language`
    (the sign-up page's) is the invitation's; blank gives the event's."""
    now = now or timezone.now()
    event = Event.objects.get(pk=event_id)
    if event.followup_days is None:
        raise DomainError("forbidden", _("This event has no follow-up survey."))
    opening = opens_at(event)
    if opening is not None and opening <= now:
        raise DomainError("forbidden", _("The follow-up survey of this event has already been sent."))
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError("bad_request", _("Enter a valid email address.")) from None
    if FollowUpContact.objects.filter(event=event, email__iexact=email).exists():
        return
    try:
        with transaction.atomic():
            FollowUpContact.objects.create(event=event, email=email, language=language)
    except IntegrityError:
        return  # the same address at the same instant: kept once


# ------------------------------------------------------------------ links


def answer_token(contact: FollowUpContact) -> str:
    return signing.dumps({"c": contact.pk, "e": contact.event_id}, salt=LINK_SALT, compress=True)


def unsubscribe_token(contact: FollowUpContact) -> str:
    return signing.dumps({"c": contact.pk, "e": contact.event_id}, salt=UNSUBSCRIBE_SALT, compress=True)


LINK_REFUSED = _("This follow-up link is not valid: it may be incomplete, already used or expired.")


def _contact(token: str, *, salt: str, max_age: timedelta | None) -> FollowUpContact:
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature:  # forged, altered or (SignatureExpired) too old
        raise DomainError("link_used", LINK_REFUSED) from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise DomainError("link_used", LINK_REFUSED)
    contact = FollowUpContact.objects.select_related("event").filter(pk=data["c"], event_id=data.get("e")).first()
    if contact is None:
        raise DomainError("link_used", LINK_REFUSED)
    return contact


# The longest a genuine link can be useful: the survey's open window (its closing date is checked too).
LINK_MAX_AGE = timedelta(days=FOLLOWUP_OPEN_DAYS + 1)


@dataclass(frozen=True)
class OpenFollowUp:
    contact: FollowUpContact
    event: Event
    polls: list[Poll]
    closes_at: datetime


def followup_open(*, token: str, now: datetime | None = None) -> OpenFollowUp:
    """The link is genuine, unused, and its follow-up open: what the survey page asks."""
    now = now or timezone.now()
    contact = _contact(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    event = contact.event
    closing = closes_at(event)
    if contact.responded:
        raise DomainError("link_used", _("This follow-up link was already used: thank you, your answers were saved."))
    if contact.invited_at is None or closing is None:
        raise DomainError("link_used", LINK_REFUSED)
    if closing <= now:
        raise DomainError(
            "event_ended",
            gettext("This follow-up closed on %(day)s; answers are no longer taken.")
            % {"day": date_format(timezone.localtime(closing), "DATE_FORMAT")},
        )
    return OpenFollowUp(contact=contact, event=event, polls=followup_polls(event), closes_at=closing)


@transaction.atomic
def followup_answer(*, token: str, answers: dict[int, list[int] | str], now: datetime | None = None) -> None:
    """The link is genuine, unused and open; `answers` (poll id -> option ids or text) are valid
    for the follow-up's polls. The answers are stored apart from the contact, whose link is used."""
    now = now or timezone.now()
    survey = followup_open(token=token, now=now)
    contact = FollowUpContact.objects.select_for_update().get(pk=survey.contact.pk)
    if contact.responded:  # the same link sent twice at once: the second finds it used
        raise DomainError("link_used", _("This follow-up link was already used: thank you, your answers were saved."))
    rows = _answer_rows(survey.polls, answers)
    if not rows:
        raise DomainError("invalid_value", _("Answer at least one question before sending."))
    response = FollowUpResponse.objects.create(event=survey.event, submitted_on=now.date())
    for row in rows:
        row.response = response
    FollowUpAnswer.objects.bulk_create(rows)
    contact.responded = True
    contact.save(update_fields=["responded"])


def _answer_rows(polls: list[Poll], answers: dict[int, list[int] | str]) -> list[FollowUpAnswer]:
    by_id = {p.id: p for p in polls}
    rows: list[FollowUpAnswer] = []
    for poll_id, value in answers.items():
        poll = by_id.get(poll_id)
        if poll is None:
            raise DomainError("unknown_poll", _("That question is not part of this follow-up."))
        if poll.kind == PollKind.TEXT:
            text = value.strip() if isinstance(value, str) else ""
            if len(text) > poll.text_max_length:
                raise DomainError(
                    "text_too_long",
                    gettext("Answers to “%(question)s” are limited to %(n)s characters.")
                    % {"question": poll.question, "n": poll.text_max_length},
                )
            if text:
                rows.append(FollowUpAnswer(poll=poll, text=text))
            continue
        chosen = list(dict.fromkeys(value)) if isinstance(value, list) else []
        valid = {o.id: o for o in poll.options.all()}
        if any(option_id not in valid for option_id in chosen):
            raise DomainError("invalid_option")
        limit = (poll.max_choices or len(valid)) if poll.kind == PollKind.MULTI else 1
        if len(chosen) > limit:
            raise DomainError("too_many_options")
        rows += [FollowUpAnswer(poll=poll, option=valid[option_id]) for option_id in chosen]
    return rows


def followup_unsubscribe(*, token: str) -> Event:
    """The unsubscribe link is genuine; the address is erased now and gets no more mail."""
    contact = _contact(token, salt=UNSUBSCRIBE_SALT, max_age=None)
    FollowUpContact.objects.filter(pk=contact.pk).update(email="", unsubscribed=True, erased_at=timezone.now())
    return contact.event


# ------------------------------------------------------------------ the command's work


@dataclass(frozen=True)
class FollowUpRun:
    sent: int
    failed: int
    erased: int


def followups_send(*, base_url: str, now: datetime | None = None) -> FollowUpRun:
    """Invitations due by now are mailed (each once, marked sent only once delivered to the mail
    backend), and the addresses of every follow-up that closed are erased."""
    now = now or timezone.now()
    sent = failed = 0
    connection = get_connection()
    due = (
        FollowUpContact.objects.filter(
            event__status=EventStatus.ENDED,
            event__followup_days__isnull=False,
            invited_at__isnull=True,
            unsubscribed=False,
        )
        .exclude(email="")
        .select_related("event")
    )
    for contact in due.iterator():
        opening, closing = opens_at(contact.event), closes_at(contact.event)
        if opening is None or not opening <= now < closing:
            continue
        message = _invitation(contact, base_url=base_url, closes=closing)
        try:
            connection.send_messages([message])
        except Exception:  # noqa: BLE001 (SMTP errors vary; the next run retries this one)
            failed += 1
            continue
        FollowUpContact.objects.filter(pk=contact.pk).update(invited_at=now)
        sent += 1
    return FollowUpRun(sent=sent, failed=failed, erased=followups_erase_closed(now=now))


def followups_erase_closed(*, now: datetime) -> int:
    """Retention: every address of a follow-up that has closed is erased (the row stays, empty)."""
    erased = 0
    events = Event.objects.filter(followup_days__isnull=False, ended_at__isnull=False, followup_contacts__isnull=False)
    for event in events.distinct():
        closing = closes_at(event)
        if closing is not None and closing <= now:
            erased += FollowUpContact.objects.filter(event=event).exclude(email="").update(email="", erased_at=now)
    return erased


def _invitation(contact: FollowUpContact, *, base_url: str, closes: datetime) -> EmailMessage:
    event = contact.event
    base = base_url.rstrip("/")
    context = {
        "event": event,
        "answer_url": base + reverse("followup-answer", kwargs={"token": answer_token(contact)}),
        "unsubscribe_url": base + reverse("followup-unsubscribe", kwargs={"token": unsubscribe_token(contact)}),
        "closes": closes,
    }
    # In the language of the page the address was left on, else the event's (issue 18).
    with translation.override(contact.language or event.language):
        body = render_to_string("polls/followup/invitation.txt", context)
        subject = gettext("Follow-up: %(title)s") % {"title": event.title}
    message = EmailMessage(subject=subject, body=body, to=[contact.email])
    message.extra_headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
    return message
