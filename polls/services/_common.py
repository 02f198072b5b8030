"""What every service shares: the event lock, the audit log, announcing the change."""

from __future__ import annotations

from django.db.models import F

from polls import announce
from polls.errors import DomainError
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


def stage_pages_reset(event: Event) -> list[str]:
    """The projector's focus changes: its pages are unknown until the projector reports them
    (services.stage_pages_set). Returns the fields to save."""
    event.screen_page, event.screen_pages, event.screen_page_focus = 0, 1, ""
    return ["screen_page", "screen_pages", "screen_page_focus"]


def publish_state(event: Event) -> None:
    """Every screen of the event gets a new `state` once the transaction commits."""
    announce.state_changed(event_id=event.id)


def publish_results(event_id: int, poll_id: int) -> None:
    """A results frame of the poll is due once the transaction commits (coalesced by the runtime)."""
    announce.results_changed(event_id=event_id, poll_id=poll_id)


def poll_locked(event: Event, poll_id: int) -> Poll:
    poll = Poll.objects.select_for_update().filter(pk=poll_id, event_id=event.id).first()
    if poll is None:
        raise DomainError("unknown_poll")
    return poll
