"""Panelist invitation links: a signed token naming one invitation of one event.

The token is signed with the site's secret (django.core.signing), so it cannot be forged or
altered, and it names the invitation's random nonce, so a link stays tied to the row it was made
for. Whether it still holds (not revoked) is the row's to say, read on every use."""

from __future__ import annotations

from django.core import signing
from django.utils.crypto import constant_time_compare

from polls.models import Event, PanelistInvitation

SALT = "caseboard.panelist-invitation"
# Tokens are short strings; anything longer is not one of ours and is not worth decoding.
MAX_TOKEN_LENGTH = 200


def invitation_token(invitation: PanelistInvitation) -> str:
    return signing.dumps([invitation.event_id, invitation.pk, invitation.nonce], salt=SALT)


def invitation_from_token(token: str, *, event: Event) -> PanelistInvitation | None:
    """The event's invitation this token names, if the signature holds and it is not revoked."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        event_id, invitation_id, nonce = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if event_id != event.id or not isinstance(invitation_id, int) or not isinstance(nonce, str):
        return None  # another event's link
    invitation = PanelistInvitation.objects.filter(pk=invitation_id, event=event, revoked_at__isnull=True).first()
    if invitation is None or not constant_time_compare(invitation.nonce, nonce):
        return None
    return invitation
