"""Participants and their ballots.

Ballots are written in batches: `votes_cast` records many participants' ballots in one
transaction with a fixed number of queries per batch, whatever its size. A server process
funnels every socket's ballot through one writer (polls/live/votewriter.py), so a burst of votes
costs a handful of commits per second instead of one commit and seven queries per vote.
`vote_cast` is the same code for a single ballot (the HTTP fallback, the admin, tests).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import DataError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from polls.ballots import Ballot, CleanBallot, validate
from polls.errors import DomainError
from polls.models import (
    AnswerStatus,
    Event,
    EventStatus,
    Option,
    Participant,
    Poll,
    PollState,
    Vote,
    VoteChoice,
    VoteReceipt,
)
from polls.services._common import publish_results
from polls.tallies import audience_totals

logger = logging.getLogger(__name__)

WRITE_ATTEMPTS = 3
DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE


def participant_join(*, event: Event) -> Participant:
    """The event exists and has not ended; a new anonymous participant is created."""
    if event.status == EventStatus.ENDED:
        raise DomainError("event_ended")
    return Participant.objects.create(event=event)


@dataclass(frozen=True)
class VoteRequest:
    """One ballot as a participant sent it; `participant_id` and `event_id` come from the session."""

    participant_id: int
    event_id: int
    poll_id: int
    ref: str
    ballot: Ballot


@dataclass(frozen=True)
class VoteOutcome:
    poll_id: int
    ballot: Ballot
    changed: bool
    # The poll's audience total right after the batch was written (it includes this ballot),
    # and the results version of that moment: the voter's own screen needs no broadcast to move.
    total: int | None = None
    version: int | None = None
    replayed: bool = False  # a resend of a ref already recorded: its ack repeats the first one's ballot

    @property
    def option_ids(self) -> tuple[int, ...]:
        return self.ballot.options


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
    request = VoteRequest(participant_id=participant_id, event_id=event_id, poll_id=poll_id, ref=ref, ballot=ballot)
    (outcome,) = votes_cast([request])
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def votes_cast(requests: Sequence[VoteRequest]) -> list[VoteOutcome | DomainError]:
    """Record a batch of ballots in one transaction; one outcome (or refusal) per request, in order.

    Each request is decided exactly as if it had been cast alone, after the ones before it in the
    batch: a refusal (closed poll, invalid option, ...) touches nothing and does not affect the
    others. Database errors abort the whole batch, and nothing of it is written.
    """
    if not requests:
        return []
    for attempt in range(WRITE_ATTEMPTS):
        try:
            return _votes_cast_once(requests)
        except DataError:
            # The database refused a value that validation let through: find it by casting each
            # ballot alone, so that one bad ballot fails alone and the others are recorded.
            if len(requests) == 1:
                logger.warning("the database refused a ballot's values; refused alone")
                return [DomainError("invalid_value")]
            return [outcome for request in requests for outcome in votes_cast([request])]
        except (IntegrityError, OperationalError) as exc:
            # Another process wrote a ballot of the same participant (a second tab on another
            # worker) between our read and our write, or PostgreSQL broke a deadlock between two
            # batches: this one rolled back whole; read and decide again.
            if attempt == WRITE_ATTEMPTS - 1 or not _worth_retrying(exc):
                raise
    raise AssertionError("unreachable")


def _worth_retrying(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    return getattr(exc.__cause__, "sqlstate", None) == DEADLOCK_DETECTED


def _digest(ballot: Ballot) -> str:
    # A digest, not the raw ballot: what the phone sent may hold text no database can store (NUL).
    return hashlib.sha256(json.dumps(ballot.as_json(), sort_keys=True).encode()).hexdigest()


@dataclass
class _Batch:
    """What the batch read once, updated as its requests are decided."""

    receipts: dict[tuple[int, str], tuple[int, str, dict]]  # (participant, ref) -> (poll, sent, stored)
    polls: dict[int, Poll]
    option_ids: dict[int, set[int]]
    votes: dict[tuple[int, int], Vote]  # (poll, participant) -> existing row
    ballots: dict[tuple[int, int], Ballot]  # (poll, participant) -> current ballot
    writes: dict[tuple[int, int], CleanBallot] = field(default_factory=dict)
    new_receipts: list[VoteReceipt] = field(default_factory=list)


@transaction.atomic
def _votes_cast_once(requests: Sequence[VoteRequest]) -> list[VoteOutcome | DomainError]:
    batch = _read(requests)
    now = timezone.now()
    outcomes: list[VoteOutcome | DomainError] = []
    for request in requests:
        try:
            outcomes.append(_decide(batch, request, now))
        except DomainError as refusal:
            outcomes.append(refusal)
        except (ArithmeticError, ValueError, TypeError) as exc:
            # A ballot no check foresaw: it alone is refused. Its content is not logged.
            logger.warning("a ballot could not be decided (%s); refused alone", type(exc).__name__)
            outcomes.append(DomainError("invalid_value"))
    _write(batch)
    for poll_id in {poll for poll, _ in batch.writes}:
        publish_results(batch.polls[poll_id].event_id, poll_id)
    return _with_totals(outcomes)


def _with_totals(outcomes: list[VoteOutcome | DomainError]) -> list[VoteOutcome | DomainError]:
    """One grouped count for the whole batch: the total each voter sees in its ack.

    A replayed ref gets none: its ack repeats the first one's ballot, and a total read now would
    not be the one that first ack reported; the `state` a reconnecting phone receives has it.
    """
    fresh = [o for o in outcomes if isinstance(o, VoteOutcome) and not o.replayed]
    poll_ids = {outcome.poll_id for outcome in fresh}
    if not poll_ids:
        return outcomes
    totals = audience_totals(poll_ids)
    # Taken after the count. A frame another process reads before this batch commits may carry a
    # later version yet miss these ballots; the results frame this commit schedules follows it.
    version = time.time_ns() // 1000
    return [
        dataclasses.replace(outcome, total=totals.get(outcome.poll_id, 0), version=version)
        if isinstance(outcome, VoteOutcome) and not outcome.replayed
        else outcome
        for outcome in outcomes
    ]


def _read(requests: Sequence[VoteRequest]) -> _Batch:
    participant_ids = {r.participant_id for r in requests}
    poll_ids = {r.poll_id for r in requests}
    receipts = {
        (participant_id, ref): (poll_id, ballot.get("sent"), ballot.get("stored"))
        for participant_id, ref, poll_id, ballot in VoteReceipt.objects.filter(
            participant_id__in=participant_ids, ref__in={r.ref for r in requests}
        ).values_list("participant_id", "ref", "poll_id", "ballot")
    }
    polls = _polls_for_votes(poll_ids)
    option_ids: dict[int, set[int]] = {poll_id: set() for poll_id in polls}
    for poll_id, option_id in Option.objects.filter(poll_id__in=polls).values_list("poll_id", "id"):
        option_ids[poll_id].add(option_id)
    votes = {
        (v.poll_id, v.participant_id): v
        for v in Vote.objects.filter(poll_id__in=polls, participant_id__in=participant_ids)
    }
    options_by_vote: dict[int, list[int]] = {}
    for vote_id, option_id in (
        VoteChoice.objects.filter(vote_id__in=[v.pk for v in votes.values()])
        .order_by("rank", "option_id")
        .values_list("vote_id", "option_id")
    ):
        options_by_vote.setdefault(vote_id, []).append(option_id)
    ballots = {
        key: Ballot(
            options=tuple(options_by_vote.get(vote.pk, ())),
            value=vote.value_number,
            text=vote.value_text or None,
            confidence=vote.confidence,
        )
        for key, vote in votes.items()
    }
    return _Batch(receipts=receipts, polls=polls, option_ids=option_ids, votes=votes, ballots=ballots)


def _polls_for_votes(poll_ids: set[int]) -> dict[int, Poll]:
    """Read the polls under a shared lock, so a concurrent close waits for ballots in flight."""
    if connection.vendor == "postgresql":
        rows = Poll.objects.raw("SELECT * FROM polls_poll WHERE id = ANY(%s) FOR SHARE", [sorted(poll_ids)])
    else:
        # SQLite runs IMMEDIATE transactions: writers are already serialised.
        rows = Poll.objects.filter(pk__in=poll_ids)
    return {poll.pk: poll for poll in rows}


def _decide(batch: _Batch, request: VoteRequest, now) -> VoteOutcome:
    sent = _digest(request.ballot)
    receipt = batch.receipts.get((request.participant_id, request.ref))
    if receipt is not None:
        poll_id, receipt_sent, stored = receipt
        if poll_id == request.poll_id and receipt_sent == sent:
            return VoteOutcome(poll_id=poll_id, ballot=_ballot_from_json(stored), changed=False, replayed=True)
        raise DomainError("idempotency_conflict")

    poll = batch.polls.get(request.poll_id)
    if poll is None or poll.event_id != request.event_id:
        raise DomainError("unknown_poll")
    if poll.state == PollState.DRAFT:
        raise DomainError("poll_not_open")
    if poll.state == PollState.CLOSED or (poll.closes_at is not None and poll.closes_at <= now):
        raise DomainError("poll_closed")
    clean = validate(poll, request.ballot, batch.option_ids[poll.pk])
    final = clean.ballot

    key = (poll.pk, request.participant_id)
    changed = batch.ballots.get(key) != final
    if changed:
        batch.ballots[key] = final
        batch.writes[key] = clean
    stored = final.as_json()
    batch.receipts[(request.participant_id, request.ref)] = (poll.pk, sent, stored)
    receipt = {"sent": sent, "stored": stored}
    batch.new_receipts.append(
        VoteReceipt(participant_id=request.participant_id, poll_id=poll.pk, ref=request.ref, ballot=receipt)
    )
    return VoteOutcome(poll_id=poll.pk, ballot=final, changed=changed)


def _write(batch: _Batch) -> None:
    """Insert new ballots, rewrite changed ones, add their choices and every receipt."""
    now = timezone.now()
    fresh: list[Vote] = []
    rewritten: list[Vote] = []
    # In key order, so that two processes' batches take row locks in the same order.
    for (poll_id, participant_id), clean in sorted(batch.writes.items()):
        final = clean.ballot
        vote = batch.votes.get((poll_id, participant_id))
        if vote is None:
            vote = Vote(poll_id=poll_id, participant_id=participant_id, created_at=now)
            fresh.append(vote)
        else:
            rewritten.append(vote)
        if (final.text or "") != vote.value_text:
            vote.text_status = AnswerStatus.PENDING  # a changed answer goes back to moderation
        vote.value_number = final.value
        vote.value_text = final.text or ""
        vote.confidence = final.confidence
        vote.updated_at = now
    if rewritten:
        VoteChoice.objects.filter(vote__in=rewritten).delete()
        Vote.objects.bulk_update(rewritten, ["value_number", "value_text", "text_status", "confidence", "updated_at"])
    if fresh:
        Vote.objects.bulk_create(fresh)
        for vote in fresh:
            batch.votes[(vote.poll_id, vote.participant_id)] = vote
    choices = []
    for (poll_id, participant_id), clean in batch.writes.items():
        vote = batch.votes[(poll_id, participant_id)]
        if vote.pk is None:  # pragma: no cover - both backends return ids from bulk inserts
            raise RuntimeError("the database did not return the ids of new ballots")
        choices.extend(
            VoteChoice(vote=vote, option_id=option_id, poll_id=poll_id, rank=clean.ranks.get(option_id))
            for option_id in clean.ballot.options
        )
    VoteChoice.objects.bulk_create(choices)
    VoteReceipt.objects.bulk_create(sorted(batch.new_receipts, key=lambda r: (r.participant_id, r.ref)))


def _ballot_from_json(data: dict) -> Ballot:
    return Ballot(
        options=tuple(data.get("options", [])),
        value=data.get("value"),
        text=data.get("text"),
        confidence=data.get("confidence"),
    )
