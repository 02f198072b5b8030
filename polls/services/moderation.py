"""The moderator's say over ballots: free-text answers, reset, duplicate."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from polls.errors import DomainError
from polls.models import AnswerStatus, Option, Poll, PollKind, PollState, Vote, VoteReceipt
from polls.services._common import audit, lock_event, poll_locked, publish_results, publish_state


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
def answers_approve_waiting(*, event_id: int, poll_id: int, user) -> int:
    """The poll is a free-text poll of this event; every answer still waiting is shown at once
    (rejected ones stay rejected). Returns how many were approved."""
    event = lock_event(event_id)
    poll = poll_locked(event, poll_id)
    if poll.kind != PollKind.TEXT:
        raise DomainError("invalid_transition", "Only free-text answers wait for approval.")
    approved = Vote.objects.filter(poll=poll, text_status=AnswerStatus.PENDING).update(
        text_status=AnswerStatus.APPROVED
    )
    audit(event, user, "approve_answers", f"poll:{poll.id} count:{approved}")
    publish_results(event_id, poll.id)
    return approved


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
    poll.reset_count += 1
    poll.save(update_fields=["results_visible", "preferred_revealed", "reset_count"])
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
    # Right after its source: the polls after it move down one place, keeping their order.
    Poll.objects.filter(event=event, position__gt=source.position).update(position=F("position") + 1)
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
