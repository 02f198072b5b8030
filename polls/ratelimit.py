"""A small token bucket: Channels has no throttle of its own."""

import time


class TokenBucket:
    def __init__(self, *, capacity: int, per_seconds: float) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / per_seconds
        self.tokens = float(capacity)
        self.stamp = time.monotonic()
        self.refused = 0

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.refused += 1
        return False
