"""The domain's one way to say that live state changed: announced inside a transaction, heard
after it commits (never if it rolls back).

Services call `state_changed`, `results_changed` and `questions_changed`; whoever wants to know subscribes. The live
runtime (polls/live/) subscribes when Django starts (polls/live/apps.py) and turns each
announcement into frames on the channel layer. The domain never imports the runtime: this module
is the whole door, and it opens one way.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Protocol

from django.db import transaction

logger = logging.getLogger(__name__)


class Listener(Protocol):
    def state_changed(self, *, event_id: int) -> None: ...

    def results_changed(self, *, event_id: int, poll_id: int) -> None: ...

    def access_changed(self, *, event_id: int) -> None: ...

    def questions_changed(self, *, event_id: int) -> None: ...


_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def state_changed(*, event_id: int) -> None:
    """The event's status, case, poll, reveals or agenda changed: every screen needs a new `state`."""
    transaction.on_commit(partial(_tell, "state_changed", event_id=event_id), robust=True)


def results_changed(*, event_id: int, poll_id: int) -> None:
    """The poll's ballots or their visibility changed: its results are due (the runtime paces them)."""
    transaction.on_commit(partial(_tell, "results_changed", event_id=event_id, poll_id=poll_id), robust=True)


def access_changed(*, event_id: int) -> None:
    """Who may moderate or present the event changed: open consoles and projectors are checked again."""
    transaction.on_commit(partial(_tell, "access_changed", event_id=event_id), robust=True)


def questions_changed(*, event_id: int) -> None:
    """The event's audience questions, their upvotes or its question settings changed: a
    `questions` frame is due (the runtime coalesces them)."""
    transaction.on_commit(partial(_tell, "questions_changed", event_id=event_id), robust=True)


def _tell(name: str, **change: int) -> None:
    # The change is committed whatever a listener does: a failing listener is logged and the
    # next one still hears it (screens resynchronise from `state` on their next change or reconnect).
    for listener in list(_listeners):
        try:
            getattr(listener, name)(**change)
        except Exception:
            logger.exception("listener %r failed on %s", listener, name)
