"""Who may run and show an event: its moderators and its secret presenter link."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from polls import announce, selectors
from polls.errors import DomainError
from polls.models import Event, new_presenter_token
from polls.services._common import audit, lock_event


@transaction.atomic
def event_moderators_set(*, event_id: int, moderator_ids: set[int], user) -> Event:
    """The user is the event's owner or moderates every event; the event's moderators become
    exactly these users (active accounts only). The change is audited; sockets of removed
    moderators are closed."""
    event = lock_event(event_id)
    if not selectors.may_change_moderators(user=user, event=event):
        raise DomainError("forbidden", "Only the event's owner or an administrator may change its moderators.")
    wanted = set(get_user_model().objects.filter(pk__in=moderator_ids, is_active=True).values_list("pk", flat=True))
    current = set(event.moderators.values_list("pk", flat=True))
    added, removed = wanted - current, current - wanted
    if not added and not removed:
        transaction.set_rollback(True)  # nothing changed: keep the state version as it was
        return event
    event.moderators.add(*added)
    event.moderators.remove(*removed)
    target = ";".join(
        part
        for part in (
            "added:" + ",".join(map(str, sorted(added))) if added else "",
            "removed:" + ",".join(map(str, sorted(removed))) if removed else "",
        )
        if part
    )
    audit(event, user, "set_moderators", target)
    announce.access_changed(event_id=event.id)
    return event


@transaction.atomic
def presenter_key_rotate(*, event_id: int, user) -> Event:
    """The user moderates the event; its presenter link gets a new key. Browsers that opened the
    old link lose the presenter screen (their sockets are closed; the page asks for the new link)."""
    event = lock_event(event_id)
    if not selectors.user_moderates(user=user, event=event):
        raise DomainError("forbidden")
    event.presenter_token = new_presenter_token()
    event.save(update_fields=["presenter_token"])
    audit(event, user, "rotate_presenter_key")
    announce.access_changed(event_id=event.id)
    return event


def user_access_changed(*, user) -> None:
    """The user logged out or the account changed: consoles and projectors open under it are
    checked again (and closed where the right is gone) once the change commits."""
    if user is None or getattr(user, "pk", None) is None:
        return
    events = Event.objects.exclude(status="ended")
    if not (user.is_staff or user.is_superuser):
        events = events.filter(moderators=user)
    for event_id in events.values_list("pk", flat=True):
        announce.access_changed(event_id=event_id)
