"""Participants and their ballots, and the moderator's say over them (answers, reset)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from polls.ballots import Ballot, validate
from polls.errors import DomainError
from polls.models import (
    AnswerStatus,
    Event,
    EventStatus,
    Option,
    Participant,
    Poll,
    PollKind,
    PollState,
    Vote,
    VoteChoice,
    VoteReceipt,
)
from polls.services._common import audit, lock_event, poll_locked, publish_results, publish_state


def participant_join(*, event: Event) -> Participant:
    """The event exists and has not ended; a new anonymous participant is created."""
    if event.status == EventStatus.ENDED:
        raise DomainError("event_ended")
    return Participant.objects.create(event=event)


@dataclass(frozen=True)
class VoteOutcome:
    poll_id: int
    ballot: Ballot
    changed: bool

    @property
    def option_ids(self) -> tuple[int, ...]:
        return self.ballot.options


def _poll_for_vote(*, event_id: int, poll_id: int) -> Poll:
    """Read the poll under a shared lock, so a concurrent close waits for ballots in flight."""
    if connection.vendor == "postgresql":
        poll = next(
            iter(
                Poll.objects.raw(
                    "SELECT * FROM polls_poll WHERE id = %s AND event_id = %s FOR SHARE", [poll_id, event_id]
                )
            ),
            None,
        )
    else:
        # SQLite runs IMMEDIATE transactions: writers are already serialised.
        poll = Poll.objects.filter(pk=poll_id, event_id=event_id).first()
    if poll is None:
        raise DomainError("unknown_poll")
    return poll


def vote_cast(
    *,
    participant_id: int,
    event_id: int,
    poll_id: int,
    ref: str,
    ballot: Ballot | None = None,
    option_ids: tuple[int, ...] | None = None,
) -> VoteOutcome:
    """The participant belongs to the event and the poll is open; records or changes the ballot.

    Idempotent by `ref`: the same ref with the same ballot returns the first outcome (even after
    the poll closed); the same ref with a different ballot is refused with idempotency_conflict.
    """
    ballot = ballot or Ballot(options=tuple(option_ids or ()))
    for attempt in range(3):
        try:
            return _vote_cast_once(
                participant_id=participant_id, event_id=event_id, poll_id=poll_id, ballot=ballot, ref=ref
            )
        except IntegrityError:
            # Two tabs of one participant raced on the same poll or ref: re-read and decide again.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _vote_cast_once(*, participant_id: int, event_id: int, poll_id: int, ballot: Ballot, ref: str) -> VoteOutcome:
    # A digest, not the raw ballot: what the phone sent may hold text no database can store (NUL).
    sent = hashlib.sha256(json.dumps(ballot.as_json(), sort_keys=True).encode()).hexdigest()
    receipt = VoteReceipt.objects.filter(participant_id=participant_id, ref=ref).first()
    if receipt is not None:
        if receipt.poll_id == poll_id and receipt.ballot.get("sent") == sent:
            stored = receipt.ballot["stored"]
            return VoteOutcome(poll_id=poll_id, ballot=_ballot_from_json(stored), changed=False)
        raise DomainError("idempotency_conflict")

    poll = _poll_for_vote(event_id=event_id, poll_id=poll_id)
    if poll.state == PollState.DRAFT:
        raise DomainError("poll_not_open")
    if poll.state == PollState.CLOSED or (poll.closes_at is not None and poll.closes_at <= timezone.now()):
        raise DomainError("poll_closed")
    clean = validate(poll, ballot, set(poll.options.values_list("id", flat=True)))
    final = clean.ballot

    vote = Vote.objects.filter(poll_id=poll_id, participant_id=participant_id).first()
    previous = _stored_ballot(vote) if vote else None
    changed = previous != final
    if changed:
        if vote is None:
            vote = Vote(poll_id=poll_id, participant_id=participant_id)
        else:
            vote.choices.all().delete()
        vote.value_number = final.value
        if (final.text or "") != vote.value_text:
            vote.text_status = AnswerStatus.PENDING  # a changed answer goes back to moderation
        vote.value_text = final.text or ""
        vote.confidence = final.confidence
        vote.save()
        VoteChoice.objects.bulk_create(
            [VoteChoice(vote=vote, option_id=oid, poll_id=poll_id, rank=clean.ranks.get(oid)) for oid in final.options]
        )
        publish_results(event_id, poll_id)
    VoteReceipt.objects.create(
        participant_id=participant_id, poll_id=poll_id, ref=ref, ballot={"sent": sent, "stored": final.as_json()}
    )
    return VoteOutcome(poll_id=poll_id, ballot=final, changed=changed)


def _ballot_from_json(data: dict) -> Ballot:
    return Ballot(
        options=tuple(data.get("options", [])),
        value=data.get("value"),
        text=data.get("text"),
        confidence=data.get("confidence"),
    )


def _stored_ballot(vote: Vote) -> Ballot:
    choices = vote.choices.order_by("rank", "option_id").values_list("option_id", flat=True)
    return Ballot(
        options=tuple(choices),
        value=vote.value_number,
        text=vote.value_text or None,
        confidence=vote.confidence,
    )


def ballot_payload(ballot: Ballot) -> dict:
    """The ballot as echoed in acks and `my_vote`."""
    return ballot.as_json()


# ------------------------------------------------------ moderator over ballots


@transaction.atomic
def answer_moderate(*, event_id: int, answer_id: int, approve: bool, user) -> Vote:
    """The answer is a free-text ballot in this event; it is shown on the presenter or withdrawn."""
    event = lock_event(event_id)
    vote = (
        Vote.objects.select_for_update().filter(pk=answer_id, poll__event_id=event.id, poll__kind=PollKind.TEXT).first()
    )
    if vote is None:
        raise DomainError("unknown_answer")
    vote.text_status = AnswerStatus.APPROVED if approve else AnswerStatus.REJECTED
    vote.save(update_fields=["text_status"])
    audit(event, user, "approve_answer" if approve else "reject_answer", f"answer:{vote.id}")
    publish_results(event_id, vote.poll_id)
    return vote


@transaction.atomic
def poll_reset(*, event_id: int, poll_id: int, user) -> Poll:
    """The poll is not open; all its ballots (and their receipts) are deleted, for a fresh start."""
    event = lock_event(event_id)
    poll = poll_locked(event, poll_id)
    if poll.state == PollState.OPEN:
        raise DomainError("invalid_transition", "Close the poll before resetting its votes.")
    deleted, _ = Vote.objects.filter(poll=poll).delete()
    VoteReceipt.objects.filter(poll=poll).delete()
    poll.results_visible = False
    poll.preferred_revealed = False
    poll.save(update_fields=["results_visible", "preferred_revealed"])
    audit(event, user, "reset_poll", f"poll:{poll.id}")
    publish_state(event)
    publish_results(event_id, poll.id)
    return poll


@transaction.atomic
def poll_duplicate(*, event_id: int, poll_id: int, user) -> Poll:
    """The poll belongs to the event; a draft copy (question, kind, settings, options) is added after it."""
    event = lock_event(event_id)
    source = poll_locked(event, poll_id)
    copy_fields = [
        "case_id", "kind", "question", "max_choices", "numeric_min", "numeric_max", "numeric_unit",
        "text_max_length", "ask_confidence", "preferred_rationale",
    ]  # fmt: skip
    copy = Poll(event=event, position=source.position + 1, **{f: getattr(source, f) for f in copy_fields})
    copy.save()
    Option.objects.bulk_create(
        [
            Option(poll=copy, label=o.label, position=o.position, is_preferred=o.is_preferred)
            for o in source.options.all()
        ]
    )
    audit(event, user, "duplicate_poll", f"poll:{source.id}->poll:{copy.id}")
    publish_state(event)
    return copy
