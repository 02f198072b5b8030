"""Moderator actions that change nothing live but are audited like every other: exports, the recap."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from polls import selectors
from polls.errors import DomainError
from polls.models import Event, EventRecap
from polls.services._common import audit


def export_recorded(*, event: Event, user) -> None:
    """The user moderates the event (or all events) and has just been given its export: the audit
    log gets an `export` entry with who and when."""
    if not selectors.user_moderates(user=user, event=event):
        raise DomainError("forbidden")
    audit(event, user, "export")


def report_recorded(*, event: Event, user, what: str) -> None:
    """As export_recorded, for one of the report's files (`what`: report, pdf, csv, xlsx, recap.md...)."""
    if not selectors.user_moderates(user=user, event=event):
        raise DomainError("forbidden")
    audit(event, user, "export", what)


@transaction.atomic
def recap_save(*, event: Event, user, body: str, publish: bool | None = None, public_link: bool | None = None):
    """The user moderates the event; the recap's text is replaced, and it is published or withdrawn
    if asked (a withdrawn recap loses its public link)."""
    if not selectors.user_moderates(user=user, event=event):
        raise DomainError("forbidden")
    recap, _ = EventRecap.objects.select_for_update().get_or_create(event=event)
    recap.body = body
    recap.updated_by = user
    if publish is True and recap.published_at is None:
        recap.published_at = timezone.now()
        audit(event, user, "publish_recap")
    elif publish is False and recap.published_at is not None:
        recap.published_at = None
        recap.public_link = False
        audit(event, user, "withdraw_recap")
    if public_link is not None and recap.published_at is not None and recap.public_link != public_link:
        recap.public_link = public_link
        audit(event, user, "share_recap" if public_link else "unshare_recap")
    recap.save()
    return recap
