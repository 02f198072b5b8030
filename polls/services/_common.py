"""What every service shares: the event lock, the audit log, the state broadcast."""

from __future__ import annotations

from django.db.models import F

from polls import coalescing, frames
from polls.broadcast import broadcast_on_commit
from polls.errors import DomainError
from polls.groups import event_group
from polls.models import Event, ModeratorAction, Poll


def lock_event(event_id: int) -> Event:
    """Serialise state changes of one event; every change bumps its state version."""
    event = Event.objects.select_for_update().get(pk=event_id)
    Event.objects.filter(pk=event_id).update(state_version=F("state_version") + 1)
    event.refresh_from_db(fields=["state_version"])
    return event


def audit(event: Event, user, action: str, target: str = "") -> None:
    ModeratorAction.objects.create(
        event=event, user=user if user and user.is_authenticated else None, action=action, target=target
    )


def publish_state(event: Event) -> None:
    """Build the new state once, inside the transaction, and send it after commit."""
    broadcast_on_commit(event_group(event.id), frames.build_state_message(event.id))


def publish_results(event_id: int, poll_id: int) -> None:
    """Schedule a coalesced results frame once the transaction commits."""
    from django.db import transaction

    # robust: the ballots are committed; a failed broadcast must not turn their acks into errors
    # (the next change, or a reconnect, brings the screens up to date).
    transaction.on_commit(lambda: coalescing.results_changed(event_id=event_id, poll_id=poll_id), robust=True)


def poll_locked(event: Event, poll_id: int) -> Poll:
    poll = Poll.objects.select_for_update().filter(pk=poll_id, event_id=event.id).first()
    if poll is None:
        raise DomainError("unknown_poll")
    return poll
