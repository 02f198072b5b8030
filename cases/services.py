"""Writes of the cases app."""

from __future__ import annotations

from cases.models import Case, IdentifierAcknowledgement


def identifiers_acknowledged(*, case: Case, user, findings: list[tuple[str, str]]) -> None:
    """Record an author's acknowledgement of each (where, kind) the identifier guard flagged."""
    IdentifierAcknowledgement.objects.bulk_create(
        IdentifierAcknowledgement(
            case=case, user=user if user and user.is_authenticated else None, where=where[:120], kind=kind
        )
        for where, kind in findings
    )


def acknowledged_in(form, formsets=(), *, part_label=None) -> list[tuple[str, str]]:
    """(where, kind) of every acknowledged finding of a saved admin page: its form and inline forms."""
    found = [(where, kind) for where, kind in getattr(form, "identifier_findings", [])]
    for formset in formsets:
        noun = formset.model._meta.verbose_name.capitalize()
        for number, inline in enumerate(formset.forms, start=1):
            for label, kind in getattr(inline, "identifier_findings", []):
                found.append((f"{part_label(inline) if part_label else noun} {number}: {label}", kind))
    return found
