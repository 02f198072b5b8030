"""Every row of the cases and polls apps, to prove that a frame changed nothing."""

from __future__ import annotations

from typing import Any

from django.apps import apps


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """All rows of every model of the `cases` and `polls` apps, ordered by primary key (sync)."""
    rows = {}
    for label in ("cases", "polls"):
        for model in apps.get_app_config(label).get_models():
            rows[model._meta.label] = list(model.objects.order_by("pk").values())
    return rows


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
