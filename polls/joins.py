"""Join limits per client address, shared by the HTTP views and the sockets (docs/protocol.md, Limits).

- **Guessing**: unknown join codes count against the address (`JOIN_FAILURES_PER_MINUTE`). Over
  that budget the address is refused for every code, right or wrong, so a refusal tells a guesser
  nothing, except codes already in use at that address (the budget is per address and code): a
  participant joined the event from it, or its console, presenter or panel page was opened from
  it, within the last `IN_USE_S`. A room behind one NAT address (a hotel, a hospital) whose
  projector or first phones are on that network keeps joining while a guesser beside it is
  refused; the guesser can only learn a code that is on that room's screen already.
- **Joined participants are never limited**: callers admit a session that already belongs to the
  event before asking anything here (page reloads, reconnecting sockets, the HTTP fallback).
- **New participants**: at most `JOINS_PER_MINUTE` new participant sessions per address (a room
  behind one NAT address joins within that; a script making sessions to stuff ballots does not).

The address is the client's as `caseboard.clientip` resolves it (trusted proxies only).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

from caseboard import throttle

logger = logging.getLogger(__name__)

WINDOW_S = 60
IN_USE_S = 6 * 3600  # an event's day
_IN_USE_REFRESH_S = 600
_in_use_written: dict[tuple[str, str], float] = {}


def _failures_key(ip: str) -> str:
    return f"join-failures:{ip}"


def _in_use_key(ip: str, code: str) -> str:
    return f"join-in-use:{ip}:{code.strip().upper()}"


def _joins_key(ip: str) -> str:
    return f"join-new:{ip}"


def join_blocked(ip: str) -> bool:
    """The address has used up its budget of unknown codes for this minute."""
    return throttle.peek(_failures_key(ip), store=cache) >= settings.CASEBOARD["JOIN_FAILURES_PER_MINUTE"]


def record_join_failure(ip: str) -> None:
    count = throttle.hit(_failures_key(ip), WINDOW_S, store=cache)
    if count == settings.CASEBOARD["JOIN_FAILURES_PER_MINUTE"]:
        # What operations need to act on: which address, once per window, at WARNING.
        logger.warning("join-code guessing: %s reached %d unknown codes within a minute", ip, count)


def code_in_use(ip: str, code: str) -> bool:
    """Someone at this address joined or opened this event's screens recently."""
    return throttle.peek(_in_use_key(ip, code), store=cache) > 0


def record_code_in_use(ip: str, code: str) -> None:
    """Remember that the event is in use at this address (written at most every 10 min per process)."""
    pair = (ip, code.strip().upper())
    now = time.monotonic()
    if now - _in_use_written.get(pair, -_IN_USE_REFRESH_S) < _IN_USE_REFRESH_S:
        return
    if len(_in_use_written) > 50_000:
        _in_use_written.clear()
    _in_use_written[pair] = now
    try:
        cache.set(_in_use_key(*pair), 1, timeout=IN_USE_S)
    except Exception:
        logger.warning("join limit unavailable: cache write failed")


def admits_code(ip: str, code: str) -> bool:
    """Whether an address may try this (existing) code: within its guessing budget, or in use there."""
    return not join_blocked(ip) or code_in_use(ip, code)


def new_participant_allowed(ip: str) -> bool:
    """Count a new participant session from this address; False once over `JOINS_PER_MINUTE`."""
    limit = settings.CASEBOARD["JOINS_PER_MINUTE"]
    count = throttle.hit(_joins_key(ip), WINDOW_S, store=cache)
    if count == limit + 1:
        logger.warning("participant joins: %s passed %d new sessions within a minute", ip, limit)
    return count <= limit
