"""Audience questions: participants ask and upvote, moderators decide what the room sees.

Participants' writes (`question_ask`, `question_upvote`, `question_unvote`) are idempotent by the
client's `ref` like ballots. Every moderator command is audited (target `question:<id>`, never the
text: it is participant input). Every change announces `questions_changed` after commit; the
runtime coalesces those into versioned `questions` frames.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, Q
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


def question_votes(question_id: int) -> int:
    return QuestionUpvote.objects.filter(question_id=question_id).count()


@dataclass(frozen=True)
class UpvoteRequest:
    participant_id: int
    event_id: int
    ref: str
    question_id: int
    up: bool

    @property
    def action(self) -> str:
        return "upvote" if self.up else "unvote"


# Tries of a batch that another writer raced (a second tab on another worker upvoted the same
# question between our read and our write, or PostgreSQL broke a deadlock): read and decide again.
UPVOTE_WRITE_ATTEMPTS = 3


def question_upvote(*, participant_id: int, event_id: int, ref: str, question_id: int, up: bool) -> UpvoteOutcome:
    """The question is one the participant can see (approved, or their own pending) in an event
    that takes questions; the participant's upvote is set (`up`) or withdrawn. At most one upvote
    per participant and question (a database constraint); a resent ref changes nothing."""
    (outcome,) = question_upvotes([UpvoteRequest(participant_id, event_id, ref, question_id, up)])
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def question_upvotes(requests: Sequence[UpvoteRequest]) -> list[UpvoteOutcome | DomainError]:
    """Upvotes and unvotes of any participants in one transaction, each decided as if sent alone
    after the ones before it in the batch (a refusal touches nothing and does not affect the
    others), with the same fixed number of queries however many there are: a room upvoting at once
    is a few transactions a second, not one per tap (the server process batches them as it does ballots)."""
    if not requests:
        return []
    for attempt in range(UPVOTE_WRITE_ATTEMPTS):
        try:
            return _upvotes_once(requests)
        except (IntegrityError, OperationalError):
            if attempt == UPVOTE_WRITE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _upvotes_once(requests: Sequence[UpvoteRequest]) -> list[UpvoteOutcome | DomainError]:
    participant_ids = {r.participant_id for r in requests}
    question_ids = {r.question_id for r in requests}
    receipts = {
        (receipt.participant_id, receipt.ref): receipt
        for receipt in QuestionReceipt.objects.filter(
            participant_id__in=participant_ids, ref__in={r.ref for r in requests}
        )
    }
    events = {event.pk: event for event in Event.objects.filter(pk__in={r.event_id for r in requests})}
    joined = dict(Participant.objects.filter(pk__in=participant_ids).values_list("pk", "event_id"))
    questions = _questions_for_upvote(question_ids)
    upvoted = set(
        QuestionUpvote.objects.filter(question_id__in=question_ids, participant_id__in=participant_ids).values_list(
            "question_id", "participant_id"
        )
    )
    before = set(upvoted)
    new_receipts: list[QuestionReceipt] = []
    decided: list[UpvoteRequest | DomainError] = []
    for request in requests:
        try:
            decided.append(_decide_upvote(request, receipts, events, joined, questions, upvoted))
        except DomainError as refusal:
            decided.append(refusal)
            continue
        if (request.participant_id, request.ref) not in receipts:
            receipt = QuestionReceipt(
                participant_id=request.participant_id,
                ref=request.ref,
                action=request.action,
                question_id=request.question_id,
            )
            receipts[(request.participant_id, request.ref)] = receipt
            new_receipts.append(receipt)
    added = upvoted - before
    removed = before - upvoted
    if added:
        QuestionUpvote.objects.bulk_create([QuestionUpvote(question_id=q, participant_id=p) for q, p in sorted(added)])
    if removed:
        gone = Q()
        for question_id, participant_id in sorted(removed):
            gone |= Q(question_id=question_id, participant_id=participant_id)
        QuestionUpvote.objects.filter(gone).delete()
    QuestionReceipt.objects.bulk_create(new_receipts)
    votes = dict(
        QuestionUpvote.objects.filter(question_id__in=question_ids)
        .values("question_id")
        .annotate(n=Count("id"))
        .values_list("question_id", "n")
    )
    for event_id in sorted({questions[q].event_id for q, _ in added | removed}):
        announce.questions_changed(event_id=event_id)
    return [
        outcome
        if isinstance(outcome, DomainError)
        else UpvoteOutcome(outcome.question_id, votes.get(outcome.question_id, 0))
        for outcome in decided
    ]


def _questions_for_upvote(question_ids: set[int]) -> dict[int, AudienceQuestion]:
    """The questions under a shared lock: upvotes of them proceed together, a merge or dismissal waits."""
    if connection.vendor == "postgresql":
        rows = AudienceQuestion.objects.raw(
            "SELECT * FROM polls_audiencequestion WHERE id = ANY(%s) FOR SHARE", [sorted(question_ids)]
        )
    else:  # SQLite: writers take turns
        rows = AudienceQuestion.objects.filter(pk__in=question_ids)
    return {question.pk: question for question in rows}


def _decide_upvote(request, receipts, events, joined, questions, upvoted) -> UpvoteRequest:
    """One request, against what the batch read and what the requests before it decided; `upvoted`
    (question, participant) pairs change in place. Refusals raise DomainError."""
    receipt = receipts.get((request.participant_id, request.ref))
    if receipt is not None:
        if receipt.action == request.action and receipt.question_id == request.question_id:
            return request  # a resend: the answer again, nothing changes
        raise DomainError("idempotency_conflict")
    event = events.get(request.event_id)
    if event is None:
        raise DomainError("unknown_event")
    if not event.questions_enabled:
        raise DomainError("questions_off")
    if event.status == EventStatus.ENDED:
        raise DomainError("event_ended")
    if joined.get(request.participant_id) != request.event_id:
        raise DomainError("not_joined")
    question = questions.get(request.question_id)
    if question is None or question.event_id != request.event_id:
        raise DomainError("unknown_question")
    if question.state == QuestionState.PENDING and question.participant_id != request.participant_id:
        raise DomainError("unknown_question")  # someone else's pending question is not there for this phone
    if question.state == QuestionState.DISMISSED:
        raise DomainError("question_dismissed")
    pair = (request.question_id, request.participant_id)
    if request.up:
        upvoted.add(pair)
    else:
        upvoted.discard(pair)
    return request


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
