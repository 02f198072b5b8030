"""Counters in the shared cache (Redis in a cluster): how many times something happened in a window.

A window opens with its first event and lasts `window_s` seconds; the counter is atomic
(`add`, then `incr`), so every worker of a cluster counts into the same number. When the cache is
unreachable the counters read 0 and the limits they back are skipped (fail open): refusing every
phone because Redis had a bad minute would be worse than an unthrottled minute.
"""

from __future__ import annotations

import logging

from django.core.cache import cache as default_cache

logger = logging.getLogger(__name__)


def hit(key: str, window_s: float, store=None) -> int:
    """Count one event under `key`; the count in the current window, this one included."""
    store = default_cache if store is None else store
    timeout = max(1, int(window_s))
    try:
        if store.add(key, 1, timeout=timeout):
            return 1
        try:
            return int(store.incr(key))
        except ValueError:  # expired between add and incr
            store.set(key, 1, timeout=timeout)
            return 1
    except Exception:
        logger.warning("rate limit unavailable: cache write failed")
        return 0


def peek(key: str, store=None) -> int:
    """The count in the current window, without counting."""
    store = default_cache if store is None else store
    try:
        return int(store.get(key, 0) or 0)
    except Exception:
        logger.warning("rate limit unavailable: cache read failed")
        return 0
