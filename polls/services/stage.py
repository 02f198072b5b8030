"""What the projector shows: one focus at a time, chosen by the moderator, and its theme."""

from __future__ import annotations

from django.db import transaction

from polls.errors import DomainError
from polls.models import Event, StageScreen, StageTheme
from polls.services._common import audit, lock_event, poll_locked, publish_state


@transaction.atomic
def screen_show(*, event_id: int, screen: str, user, poll_id: int | None = None) -> Event:
    """`screen` is a StageScreen; `poll` (of this event) only with "poll", which otherwise needs
    a poll on screen, and "case" needs a case on screen. Every screen shows it."""
    if screen not in StageScreen.values:
        raise DomainError("bad_request", "screen must be one of: " + ", ".join(StageScreen.values) + ".")
    event = lock_event(event_id)
    fields = ["screen"]
    if poll_id is not None:
        if screen != StageScreen.POLL:
            raise DomainError("bad_request", "poll goes with the poll screen only.")
        poll = poll_locked(event, poll_id)
        event.current_poll = poll
        event.current_case_id = poll.case_id
        fields += ["current_poll", "current_case"]
    elif screen == StageScreen.POLL and event.current_poll_id is None:
        raise DomainError("invalid_transition", "There is no poll to show: choose one.")
    if screen == StageScreen.CASE and event.current_case_id is None:
        raise DomainError("invalid_transition", "There is no case to show: choose one.")
    event.screen = screen
    event.save(update_fields=fields)
    audit(event, user, "show_screen", f"screen:{screen}" + (f" poll:{poll_id}" if poll_id else ""))
    publish_state(event)
    return event


@transaction.atomic
def theme_set(*, event_id: int, theme: str, user) -> Event:
    """`theme` is a StageTheme; the projector switches to it."""
    if theme not in StageTheme.values:
        raise DomainError("bad_request", "theme must be one of: " + ", ".join(StageTheme.values) + ".")
    event = lock_event(event_id)
    event.theme = theme
    event.save(update_fields=["theme"])
    audit(event, user, "set_theme", f"theme:{theme}")
    publish_state(event)
    return event
