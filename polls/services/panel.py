"""The faculty panel by invitation: named links a moderator hands out and can withdraw."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from polls import announce, selectors
from polls.errors import DomainError
from polls.models import PanelistInvitation, Participant
from polls.services._common import audit, lock_event

# A panel is a handful of faculty; a cap keeps a runaway script from filling the console.
MAX_INVITATIONS_PER_EVENT = 50
NAME_MAX_LENGTH = PanelistInvitation._meta.get_field("display_name").max_length


@transaction.atomic
def panelist_invitation_create(*, event_id: int, display_name: str, user) -> PanelistInvitation:
    """The user moderates the event and names the panelist (1–80 characters); a new invitation."""
    event = lock_event(event_id)
    if not selectors.user_moderates(user=user, event=event):
        raise DomainError("forbidden")
    name = " ".join(str(display_name or "").split())
    if not name:
        raise DomainError("bad_request", "Give the panelist's name, as you want to see it in the console.")
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError("bad_request", f"A panelist's name has at most {NAME_MAX_LENGTH} characters.")
    if PanelistInvitation.objects.filter(event=event).count() >= MAX_INVITATIONS_PER_EVENT:
        raise DomainError("bad_request", f"An event has at most {MAX_INVITATIONS_PER_EVENT} panelist links.")
    invitation = PanelistInvitation.objects.create(event=event, display_name=name, created_by=user)
    # The audit names the invitation, not the person: the log is exported with the report.
    audit(event, user, "invite_panelist", f"invitation:{invitation.pk}")
    return invitation


@transaction.atomic
def panelist_invitation_revoke(*, event_id: int, invitation_id: int, user) -> PanelistInvitation:
    """The user moderates the event and the invitation is the event's; it stops working at once,
    and the panel sockets opened with it are closed once this commits."""
    event = lock_event(event_id)
    if not selectors.user_moderates(user=user, event=event):
        raise DomainError("forbidden")
    invitation = PanelistInvitation.objects.select_for_update().filter(pk=invitation_id, event=event).first()
    if invitation is None:
        raise DomainError("unknown_invitation")
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit(event, user, "revoke_panelist", f"invitation:{invitation.pk}")
        announce.access_changed(event_id=event.id)
    return invitation


def invited_panelist_participant(*, invitation: PanelistInvitation) -> Participant:
    """The invitation stands; the panel identity it gives (created on its first use, shared by
    every browser that opens the same link)."""
    try:
        with transaction.atomic():
            participant, _ = Participant.objects.get_or_create(
                invitation=invitation, defaults={"event_id": invitation.event_id, "is_panelist": True}
            )
    except IntegrityError:  # the link opened on two devices at once
        participant = Participant.objects.get(invitation=invitation)
    return participant
