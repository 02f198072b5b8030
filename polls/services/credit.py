"""Continuing-education credit: claims kept apart from the ballots (issue 15)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from polls.errors import DomainError
from polls.models import CreditClaim, Event, EventStatus

ALREADY_CLAIMED = (
    "Credit for this event has already been claimed with this email address. Each person claims once; "
    "the certificate's address was shown after the first claim."
)


@transaction.atomic
def credit_claim(*, event_id: int, name: str, email: str, profession: str, hours: Decimal) -> CreditClaim:
    """The event offers credit and has ended; a claim of up to its hours is recorded.

    Deliberately given nothing of the claimant's session: the claim must not be joinable to a
    participant, and so it is not written with one."""
    event = Event.objects.get(pk=event_id)
    if event.credit_hours is None:
        raise DomainError("forbidden", "This event offers no credit.")
    if event.status != EventStatus.ENDED:
        raise DomainError("forbidden", "Credit can be claimed once the event has ended.")
    if not Decimal("0") < hours <= event.credit_hours:
        raise DomainError("out_of_range", f"Claim between 0.25 and {event.credit_hours} hours.")
    email = email.strip()
    if CreditClaim.objects.filter(event=event, email__iexact=email).exists():
        raise DomainError("already_claimed", ALREADY_CLAIMED)
    claim = CreditClaim(event=event, name=name.strip(), email=email, profession=profession, hours=hours)
    try:
        claim.full_clean(validate_constraints=False)
    except ValidationError as invalid:
        raise DomainError("bad_request", "; ".join(m for ms in invalid.message_dict.values() for m in ms)) from None
    try:
        with transaction.atomic():  # a savepoint: the same address claiming twice at once loses one
            claim.save()
    except IntegrityError:
        raise DomainError("already_claimed", ALREADY_CLAIMED) from None
    return claim
