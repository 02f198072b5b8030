"""Group commit: one writer per server process and kind of write batches every socket's ballots
(and, the same way, every socket's upvotes, and what a joining phone reads back).

Every `database_sync_to_async` call of a process runs on one thread, so a process that gave each
ballot its own call and transaction wrote a few hundred ballots per second and made every
other socket wait behind them. Here a socket hands its request to the process's writer and
awaits the outcome; while one batch is in the database, the next one gathers. At a trickle each
batch holds one request (no added delay); in a burst a batch holds everything that arrived during
the previous write, up to VOTE_BATCH_MAX, and costs the same fixed number of queries.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Sequence
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from polls import selectors, services
from polls.errors import DomainError
from polls.live.loops import PerLoop
from polls.services import VoteOutcome, VoteRequest

logger = logging.getLogger(__name__)


class GroupCommit(PerLoop):
    """The queue of one kind of write; subclasses say how a batch is written (`write`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.max_batch = max(1, int(settings.CASEBOARD["VOTE_BATCH_MAX"]))
        self._queue: list[tuple[Any, asyncio.Future]] = []
        self._task: asyncio.Task | None = None
        self.batches = 0  # written batches, for tests and diagnostics
        self.largest_batch = 0

    def write(self, requests: Sequence[Any]) -> list[Any]:
        """One outcome or DomainError per request, in order (sync: runs on the database thread)."""
        raise NotImplementedError

    async def submit(self, request: Any) -> Any:
        """The outcome of the request once its batch committed; raises DomainError or a database error."""
        future = self.loop.create_future()
        self._queue.append((request, future))
        if self._task is None or self._task.done():
            # A fresh context, as for the Hub's tasks: the sender's may carry asgiref's per-call
            # executor, which would run the database work on a thread that is gone afterwards.
            self._task = self.loop.create_task(self._write_all(), context=contextvars.Context())
        return await future

    async def _write_all(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            waiting = [(request, future) for request, future in batch if not future.done()]
            if not waiting:
                continue  # every sender went away (closed sockets) before its turn
            try:
                outcomes = await database_sync_to_async(self.write)([request for request, _ in waiting])
            except asyncio.CancelledError:
                for _, future in waiting:
                    future.cancel()
                raise
            except Exception as exc:
                # The whole batch rolled back: every sender hears the database failed and resends.
                for _, future in waiting:
                    if not future.done():
                        future.set_exception(_copy(exc))
                continue
            self.batches += 1
            self.largest_batch = max(self.largest_batch, len(waiting))
            for (_, future), outcome in zip(waiting, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, DomainError):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)


class VoteWriter(GroupCommit):
    """Ballots (`vote`)."""

    def write(self, requests: Sequence[VoteRequest]) -> list[VoteOutcome | DomainError]:
        return services.votes_cast(requests)  # looked up per call: tests replace it

    async def cast(self, request: VoteRequest) -> VoteOutcome:
        return await self.submit(request)


class UpvoteWriter(GroupCommit):
    """Audience questions' `upvote` and `unvote`: a room upvoting at once."""

    def write(self, requests: Sequence[services.UpvoteRequest]) -> list[services.UpvoteOutcome | DomainError]:
        return services.question_upvotes(requests)


class ParticipantReader(GroupCommit):
    """What each joining phone reads back of its participant: the ballots it cast before (for
    `my_vote`) and its profile answers (`my_profile`), read for every phone that joins meanwhile
    in two queries: a join burst is a few trips to the database thread, not one per phone (issue 17)."""

    def write(self, participant_ids: Sequence[int]) -> list[tuple[dict[int, dict[str, Any]], dict | None]]:
        ballots = selectors.participants_ballots(participant_ids)
        profiles = selectors.participants_profiles(participant_ids)
        return [(ballots[pid], profiles.get(pid)) for pid in participant_ids]


# By the `batched` name a client frame type declares (polls/protocol/inbound.py).
WRITERS: dict[str, type[GroupCommit]] = {"ballots": VoteWriter, "upvotes": UpvoteWriter}


def _copy(exc: Exception) -> Exception:
    """One exception object per awaiting socket: a shared one would collect every raiser's traceback."""
    try:
        clone = type(exc)(*exc.args)
    except Exception:
        return exc
    clone.__cause__ = exc
    return clone
