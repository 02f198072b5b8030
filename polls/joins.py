"""Join-code guessing limit per client address, shared by the HTTP join views and the sockets."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def _key(ip: str) -> str:
    return f"join-failures:{ip}"


def join_blocked(ip: str) -> bool:
    try:
        return cache.get(_key(ip), 0) >= settings.CASEBOARD["JOIN_FAILURES_PER_MINUTE"]
    except Exception:  # the cache (Redis) is down: fail open, the event code check still applies
        logger.warning("join limit unavailable: cache read failed")
        return False


def record_join_failure(ip: str) -> None:
    key = _key(ip)
    try:
        if cache.add(key, 1, timeout=60):
            return
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=60)
    except Exception:
        logger.warning("join limit unavailable: cache write failed")
