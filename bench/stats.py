"""Small statistics helpers for the benchmark (no numpy: nearest-rank percentiles)."""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of `values` (p in 0..100); None for an empty list."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(value: float | None) -> float | None:
    return None if value is None else round(1000 * value, 1)


def latency_summary(values: Iterable[float], *, points: tuple[int, ...] = (50, 95, 99)) -> dict:
    """p50/p95/p99 and max in milliseconds."""
    data = list(values)
    out = {f"p{p}_ms": ms(percentile(data, p)) for p in points}
    out["max_ms"] = ms(max(data)) if data else None
    out["n"] = len(data)
    return out


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base in (None, 0):
        return None
    return round(value / base, 2)
