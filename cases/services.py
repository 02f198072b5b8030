"""Writes of the cases app."""

from __future__ import annotations

from cases.models import Case, IdentifierAcknowledgement


def identifiers_acknowledged(*, case: Case, user, findings: list[tuple[str, str, str]]) -> None:
    """Record an acknowledgement of each (where, kind, fingerprint) the identifier guard flagged."""
    IdentifierAcknowledgement.objects.bulk_create(
        IdentifierAcknowledgement(
            case=case,
            user=user if user and user.is_authenticated else None,
            where=where[:120],
            kind=kind,
            fingerprint=print_,
        )
        for where, kind, print_ in findings
    )
