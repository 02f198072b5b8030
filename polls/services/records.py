"""Moderator actions that change nothing live but are audited like every other: exports."""

from __future__ import annotations

from polls import selectors
from polls.errors import DomainError
from polls.models import Event
from polls.services._common import audit


def export_recorded(*, event: Event, user) -> None:
    """The user moderates the event (or all events) and has just been given its export: the audit
    log gets an `export` entry with who and when."""
    if not selectors.user_moderates(user=user, event=event):
        raise DomainError("forbidden")
    audit(event, user, "export")
