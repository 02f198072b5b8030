"""Audience questions: participants ask and upvote, moderators decide what the room sees.

Participants' writes (`question_ask`, `question_upvote`, `question_unvote`) are idempotent by the
client's `ref` like ballots. Every moderator command is audited (target `question:<id>`, never the
text: it is participant input). Every change announces `questions_changed` after commit; the
runtime coalesces those into versioned `questions` frames.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from polls import announce, selectors
from polls.errors import DomainError
from polls.models import (
    MAX_QUESTION_LENGTH,
    MAX_QUESTION_NAME_LENGTH,
    AudienceQuestion,
    Event,
    EventStatus,
    Participant,
    QuestionReceipt,
    QuestionState,
    QuestionUpvote,
    StageScreen,
)
from polls.services._common import audit, lock_event, publish_state

# How many questions one participant may ask per window: a flood is refused, a discussion is not.
ASK_BUDGET = 5
ASK_WINDOW = timedelta(minutes=1)

# Explicit direction marks, embeddings, overrides and isolates: text that reads differently
# from how it is stored (Trojan Source) has no place on a projector.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_WHITESPACE = re.compile(r"\s+")


def _clean(text: str, *, limit: int, too_long: str) -> str:
    """Whitespace runs (newlines, tabs) become one space; control and bidi characters are refused."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape
        raise DomainError("invalid_characters") from None
    text = _WHITESPACE.sub(" ", text).strip()
    for char in text:
        if char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs", "Co"):
            raise DomainError("invalid_characters")
    text = unicodedata.normalize("NFC", text)
    if len(text) > limit:
        raise DomainError(too_long)
    return text


def clean_question_text(text: str) -> str:
    """The question as stored, or DomainError: empty_question, question_too_long, invalid_characters."""
    clean = _clean(text, limit=MAX_QUESTION_LENGTH, too_long="question_too_long")
    if not clean:
        raise DomainError("empty_question")
    return clean


def clean_question_name(name: str | None) -> str:
    if name is None:
        return ""
    return _clean(name, limit=MAX_QUESTION_NAME_LENGTH, too_long="name_too_long")


@dataclass(frozen=True)
class UpvoteOutcome:
    question_id: int
    votes: int


def _open_event(event_id: int) -> Event:
    event = Event.objects.get(pk=event_id)
    if not event.questions_enabled:
        raise DomainError("questions_off")
    if event.status == EventStatus.ENDED:
        raise DomainError("event_ended")
    return event


def _participant_locked(participant_id: int, event_id: int) -> Participant:
    participant = Participant.objects.select_for_update().filter(pk=participant_id, event_id=event_id).first()
    if participant is None:
        raise DomainError("not_joined")
    return participant


def question_ask(
    *, participant_id: int, event_id: int, ref: str, text: str, name: str | None = None
) -> AudienceQuestion:
    """The participant belongs to an event that takes questions; a new question (pending, or
    approved when the event publishes directly) is recorded. The same ref with the same question
    returns the first one; with another text, idempotency_conflict."""
    clean = clean_question_text(text)
    signed = clean_question_name(name)
    for attempt in range(2):
        try:
            return _ask_once(participant_id=participant_id, event_id=event_id, ref=ref, text=clean, name=signed)
        except IntegrityError:
            # The same ref arrived twice at once (two tabs, two workers): the other one won; read it.
            if attempt:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _ask_once(*, participant_id: int, event_id: int, ref: str, text: str, name: str) -> AudienceQuestion:
    participant = _participant_locked(participant_id, event_id)  # asks of one participant take turns
    earlier = AudienceQuestion.objects.filter(participant=participant, ref=ref).first()
    if earlier is not None:
        if earlier.text == text and earlier.name == name:
            return earlier
        raise DomainError("idempotency_conflict")
    event = _open_event(event_id)
    if name and not event.questions_names_allowed:
        raise DomainError("names_not_allowed")
    recent = AudienceQuestion.objects.filter(participant=participant, created_at__gte=timezone.now() - ASK_WINDOW)
    if recent.count() >= ASK_BUDGET:
        raise DomainError("too_many_questions")
    direct = not event.questions_moderated
    question = AudienceQuestion.objects.create(
        event=event,
        participant=participant,
        ref=ref,
        text=text,
        name=name,
        state=QuestionState.APPROVED if direct else QuestionState.PENDING,
        was_approved=direct,
    )
    announce.questions_changed(event_id=event.id)
    return question


def _question_for_upvote(*, question_id: int, event_id: int) -> AudienceQuestion | None:
    """The question under a shared lock: upvotes of it proceed together, a merge or dismissal waits."""
    if connection.vendor == "postgresql":
        rows = list(
            AudienceQuestion.objects.raw(
                "SELECT * FROM polls_audiencequestion WHERE id = %s AND event_id = %s FOR SHARE",
                [question_id, event_id],
            )
        )
        return rows[0] if rows else None
    return AudienceQuestion.objects.filter(pk=question_id, event_id=event_id).first()  # SQLite: writers take turns


def question_votes(question_id: int) -> int:
    return QuestionUpvote.objects.filter(question_id=question_id).count()


def question_upvote(*, participant_id: int, event_id: int, ref: str, question_id: int, up: bool) -> UpvoteOutcome:
    """The question is one the participant can see (approved, or their own pending) in an event
    that takes questions; the participant's upvote is set (`up`) or withdrawn. At most one upvote
    per participant and question (a database constraint); a resent ref changes nothing."""
    for attempt in range(2):
        try:
            return _upvote_once(
                participant_id=participant_id, event_id=event_id, ref=ref, question_id=question_id, up=up
            )
        except IntegrityError:
            # Another tab of the same participant upvoted (or resent) at the same moment: decide again.
            if attempt:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _upvote_once(*, participant_id: int, event_id: int, ref: str, question_id: int, up: bool) -> UpvoteOutcome:
    action = "upvote" if up else "unvote"
    receipt = QuestionReceipt.objects.filter(participant_id=participant_id, ref=ref).first()
    if receipt is not None:
        if receipt.action == action and receipt.question_id == question_id:
            return UpvoteOutcome(question_id=question_id, votes=question_votes(question_id))
        raise DomainError("idempotency_conflict")
    _open_event(event_id)
    if not Participant.objects.filter(pk=participant_id, event_id=event_id).exists():
        raise DomainError("not_joined")
    question = _question_for_upvote(question_id=question_id, event_id=event_id)
    if question is None or (question.state == QuestionState.PENDING and question.participant_id != participant_id):
        raise DomainError("unknown_question")  # someone else's pending question is not there for this phone
    if question.state == QuestionState.DISMISSED:
        raise DomainError("question_dismissed")
    existing = QuestionUpvote.objects.filter(question_id=question_id, participant_id=participant_id)
    changed = False
    if up and not existing.exists():
        QuestionUpvote.objects.create(question_id=question_id, participant_id=participant_id)
        changed = True
    elif not up:
        changed = existing.delete()[0] > 0
    QuestionReceipt.objects.create(participant_id=participant_id, ref=ref, action=action, question_id=question_id)
    if changed:
        announce.questions_changed(event_id=event_id)
    return UpvoteOutcome(question_id=question_id, votes=question_votes(question_id))


# ------------------------------------------------------------------ the moderator's commands


def _lock_event_row(event_id: int) -> Event:
    # Moderation of questions takes turns per event; it is not a change of the event's `state`.
    return Event.objects.select_for_update().get(pk=event_id)


def _question_locked(event: Event, question_id: int) -> AudienceQuestion:
    question = AudienceQuestion.objects.select_for_update().filter(pk=question_id, event_id=event.id).first()
    if question is None:
        raise DomainError("unknown_question")
    return question


def _moderate(event_id: int, question_id: int, user, action: str, change) -> AudienceQuestion:
    event = _lock_event_row(event_id)
    question = _question_locked(event, question_id)
    change(question)
    question.save()
    audit(event, user, action, f"question:{question.id}")
    announce.questions_changed(event_id=event.id)
    return question


def _refuse(message: str):
    raise DomainError("invalid_transition", message)


def _not_merged(question: AudienceQuestion) -> None:
    if question.merged_into_id is not None:
        _refuse("This question was merged into another one.")


@transaction.atomic
def question_approve(*, event_id: int, question_id: int, user) -> AudienceQuestion:
    """The question is pending or dismissed (not merged); the room sees it."""

    def change(q: AudienceQuestion) -> None:
        _not_merged(q)
        q.state = QuestionState.APPROVED
        q.was_approved = True

    return _moderate(event_id, question_id, user, "approve_question", change)


@transaction.atomic
def question_dismiss(*, event_id: int, question_id: int, user) -> AudienceQuestion:
    """Any question; the room no longer sees it (its author no longer either), and it is unpinned."""

    def change(q: AudienceQuestion) -> None:
        q.state = QuestionState.DISMISSED
        q.pinned = False

    return _moderate(event_id, question_id, user, "dismiss_question", change)


@transaction.atomic
def question_restore(*, event_id: int, question_id: int, user) -> AudienceQuestion:
    """The question was dismissed (not merged) or answered: a dismissed one returns to where it was
    (approved if it had been shown, else pending); an answered one is open again."""

    def change(q: AudienceQuestion) -> None:
        _not_merged(q)
        if q.state == QuestionState.DISMISSED:
            q.state = QuestionState.APPROVED if q.was_approved else QuestionState.PENDING
        elif q.answered:
            q.answered = False
        else:
            _refuse("Only a dismissed or answered question can be restored.")

    return _moderate(event_id, question_id, user, "restore_question", change)


@transaction.atomic
def question_answer(*, event_id: int, question_id: int, user) -> AudienceQuestion:
    """The question is approved; it is marked answered (and no longer pinned)."""

    def change(q: AudienceQuestion) -> None:
        if q.state != QuestionState.APPROVED:
            _refuse("Only a question the room sees can be marked answered.")
        q.answered = True
        q.pinned = False

    return _moderate(event_id, question_id, user, "answer_question", change)


@transaction.atomic
def question_pin(*, event_id: int, question_id: int, user) -> AudienceQuestion:
    """The question is approved; it becomes the one pinned question of the event (any other is unpinned)."""

    def change(q: AudienceQuestion) -> None:
        if q.state != QuestionState.APPROVED:
            _refuse("Approve the question before pinning it.")
        AudienceQuestion.objects.filter(event_id=event_id, pinned=True).exclude(pk=q.pk).update(pinned=False)
        q.pinned = True

    question = _moderate(event_id, question_id, user, "pin_question", change)
    # Pinning is presenting (as in Slido): the projector switches to the questions screen, which
    # shows the pinned question large. Unpinning leaves the screen to the moderator's next choice.
    if Event.objects.filter(pk=event_id).exclude(screen=StageScreen.QUESTIONS).exists():
        event = lock_event(event_id)
        event.screen = StageScreen.QUESTIONS
        event.save(update_fields=["screen"])
        publish_state(event)
    return question


@transaction.atomic
def question_unpin(*, event_id: int, question_id: int, user) -> AudienceQuestion:
    """Any question of the event; it is no longer pinned."""

    def change(q: AudienceQuestion) -> None:
        q.pinned = False

    return _moderate(event_id, question_id, user, "unpin_question", change)


@transaction.atomic
def question_merge(*, event_id: int, question_id: int, into_id: int, user) -> AudienceQuestion:
    """Both questions belong to the event, differ, and neither was merged; the kept one (`into_id`)
    is not dismissed. The duplicate is dismissed as merged, and its upvoters count once on the
    kept question. Returns the kept question."""
    event = _lock_event_row(event_id)
    first, second = sorted((question_id, into_id))  # rows locked in id order, like every merge
    locked = {first: _question_locked(event, first), second: _question_locked(event, second)}
    duplicate, kept = locked[question_id], locked[into_id]
    if duplicate.pk == kept.pk:
        _refuse("A question cannot be merged into itself.")
    _not_merged(duplicate)
    _not_merged(kept)
    if kept.state == QuestionState.DISMISSED:
        _refuse("Restore the question to keep before merging into it.")
    voters = set(QuestionUpvote.objects.filter(question=duplicate).values_list("participant_id", flat=True))
    voters -= set(
        QuestionUpvote.objects.filter(question=kept, participant_id__in=voters).values_list("participant_id", flat=True)
    )
    QuestionUpvote.objects.bulk_create(
        [QuestionUpvote(question=kept, participant_id=participant_id) for participant_id in sorted(voters)]
    )
    QuestionUpvote.objects.filter(question=duplicate).delete()
    duplicate.state = QuestionState.DISMISSED
    duplicate.pinned = False
    duplicate.merged_into = kept
    duplicate.save()
    audit(event, user, "merge_question", f"question:{duplicate.id}->question:{kept.id}")
    announce.questions_changed(event_id=event.id)
    return kept


@transaction.atomic
def questions_settings_changed(*, event_id: int, user) -> None:
    """The event's question settings were changed (admin): audited, and every screen is told."""
    event = Event.objects.get(pk=event_id)
    audit(event, user, "question_settings")
    announce.questions_changed(event_id=event.id)


def questions_export_recorded(*, event: Event, user) -> None:
    """The user moderates the event and has just been given its questions export: audited."""
    if not selectors.user_moderates(user=user, event=event):
        raise DomainError("forbidden")
    audit(event, user, "export_questions")
