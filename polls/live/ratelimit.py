"""A small per-connection token bucket: Channels has no throttle of its own.

`allow()` spends a token per frame; the bucket holds `capacity` tokens and refills at
`capacity / per_seconds`. Each refused frame adds to a debt that fades at the same rate, so a
client that overshoots now and then recovers, while one that keeps sending at more than twice the
refill rate ends up `flooding` (debt above `flood_factor` times the bucket) and is disconnected.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        *,
        capacity: int,
        per_seconds: float,
        flood_factor: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / per_seconds
        self.tokens = float(capacity)
        self.flood_limit = flood_factor * float(capacity)
        self.debt = 0.0
        self.refused = 0
        self._clock = clock
        self.stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        earned = (now - self.stamp) * self.rate
        self.stamp = now
        self.tokens = min(self.capacity, self.tokens + earned)
        self.debt = max(0.0, self.debt - earned)

    def allow(self) -> bool:
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.refused += 1
        self.debt += 1
        return False

    @property
    def flooding(self) -> bool:
        """True once refused frames outnumber the bucket `flood_factor` times over (net of refill)."""
        return self.debt > self.flood_limit
