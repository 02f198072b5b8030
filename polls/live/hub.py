"""Per-process fan-out: one channel-layer subscription per process, local delivery to its sockets.

Channels' usual pattern (every consumer joins the group; the layer delivers a copy to each)
costs ~0.2-0.3 ms per recipient and collapsed above ~1,000 phones. Here each server process
joins an event's group once through its Hub, receives one copy of each frame (already
serialised once by the sender) and writes it to its own sockets. Results frames (coalesced per
poll by polls/live/coalescing.py) reach the few screens at once and the phones at a pace the process
can afford, always ending with the newest.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from polls import protocol
from polls.live.coalescing import Coalescer, QuestionsCoalescer
from polls.live.groups import event_group
from polls.live.loops import PerLoop
from polls.live.timers import PollCloser
from polls.protocol import outbound
from polls.protocol.outbound import ACCESS_MESSAGE_TYPE, MESSAGE_TYPE

logger = logging.getLogger(__name__)

STATE_CACHE_TTL_S = 10.0
# `questions` frames carry the whole list (200 questions: ~30 KB per phone), so writing one to
# thousands of phones costs far more than a results frame; they may take this fraction of the
# loop time results frames may (RESULTS_FANOUT_SHARE), leaving the loop to the acks of a room
# upvoting at once (measured in docs/benchmarks.md: 2,000 phones got one every second at the full share).
QUESTIONS_SHARE_OF_RESULTS = 0.4
MEMBERSHIP_CHECK_S = 5.0
PROBE_TIMEOUT_S = 5.0


class Socket(Protocol):
    role: str

    async def deliver(self, message: dict[str, Any]) -> None: ...

    async def recheck_access(self) -> None: ...


def audience(role: str) -> str:
    return "moderator" if role == protocol.Role.MODERATOR else "public"


class Hub(PerLoop):
    """The fan-out point of one event loop (one per server process)."""

    @classmethod
    def serving(cls) -> Hub | None:
        """The hub of this process's live event loop, for callers in worker threads."""
        for loop, hub in list(cls._by_loop.items()):
            if loop.is_running() and not loop.is_closed() and hub.channel is not None:
                return hub
        return None

    @classmethod
    def for_running_loop(cls) -> Hub | None:
        try:
            return cls._by_loop.get(asyncio.get_running_loop())
        except RuntimeError:
            return None

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.sockets: dict[int, set[Socket]] = {}
        self.screens: dict[int, set[Socket]] = {}  # the few non-participant sockets: projector, console, panel
        self._state: dict[int, tuple[float, dict[str, Any]]] = {}
        self._results: dict[int, dict[str, Any]] = {}
        self._build_locks: dict[int, asyncio.Lock] = {}
        self.coalescer = Coalescer(self.loop, self._spawn)
        self.questions_coalescer = QuestionsCoalescer(self.loop, self._spawn)
        self._questions: dict[int, dict[str, Any]] = {}  # event -> newest `questions` message
        self.closer = PollCloser()
        # Keyed by event for results, by (event, "questions") for questions: each paced on its own.
        self._fanout_s: dict[Any, float] = {}  # seconds the last fan-out of that kind to phones took here
        self._audience_pending: dict[Any, dict[str, Any]] = {}  # newest frame not yet on phones
        self._audience_pacers: dict[Any, asyncio.Task] = {}
        self._last_audience: dict[Any, float] = {}
        self._probes: dict[str, asyncio.Future] = {}
        self._tasks: list[asyncio.Task] = []
        self._start_lock = asyncio.Lock()
        self.healthy = True

    # ------------------------------------------------------------ lifecycle

    def _spawn(self, coro) -> asyncio.Task:
        # A fresh context: a task started from inside async_to_sync would otherwise inherit
        # asgiref's per-call executor and fail once that call has returned.
        return self.loop.create_task(coro, context=contextvars.Context())

    async def _ensure_started(self) -> None:
        if self.channel is not None:
            return
        async with self._start_lock:
            if self.channel is None:
                # The default "specific." prefix matters: channels_redis multiplexes every
                # process-local channel of a layer over one BZPOPMIN on that shared prefix.
                self.channel = await self.layer.new_channel()
                self._tasks = [
                    self._spawn(self._read_forever()),
                    self._spawn(self._watch_membership()),
                    self._spawn(self.closer.run()),
                ]

    async def close(self) -> None:
        """Stop this hub's background tasks and leave its groups (tests, loop shutdown)."""
        background = [
            *self._tasks,
            *self.coalescer.tasks(),
            *self.questions_coalescer.tasks(),
            *self._audience_pacers.values(),
        ]
        while background:  # a task that swallowed its cancellation is cancelled again
            for task in background:
                task.cancel()
            _, pending = await asyncio.wait(background, timeout=1)
            background = list(pending)
        if self.channel is not None:
            for event_id in list(self.sockets):
                try:
                    await self.layer.group_discard(event_group(event_id), self.channel)
                except Exception:
                    logger.debug("group_discard on close failed", exc_info=True)
        self.sockets.clear()
        self.screens.clear()
        self._by_loop.pop(self.loop, None)

    async def attach(self, event_id: int, socket: Socket) -> None:
        await self._ensure_started()
        sockets = self.sockets.get(event_id)
        joining = sockets is None
        if joining:
            sockets = self.sockets[event_id] = set()
        # Counted before the first await: a socket cancelled while the group is being joined is
        # then forgotten like any other, instead of leaving an empty set that would make the
        # event's next socket skip joining the group.
        sockets.add(socket)
        if socket.role != protocol.Role.PARTICIPANT:
            self.screens.setdefault(event_id, set()).add(socket)
        if joining:
            try:
                await self.layer.group_add(event_group(event_id), self.channel)
            except BaseException:
                # Sockets that arrived meanwhile stay; the membership watch rejoins for them.
                self.forget(event_id, socket)
                raise

    async def detach(self, event_id: int, socket: Socket) -> None:
        if self.forget(event_id, socket):
            await self._leave(event_id)

    def forget(self, event_id: int, socket: Socket) -> bool:
        """Drop a socket without awaiting anything (safe in a cancelled task's cleanup).

        True when it was this process's last socket of the event: the caller then leaves the
        event's group, by awaiting `_leave` or, where it cannot await, with `leave_soon`."""
        sockets = self.sockets.get(event_id)
        if sockets is None or socket not in sockets:
            return False
        sockets.discard(socket)
        screens = self.screens.get(event_id)
        if screens is not None:
            screens.discard(socket)
            if not screens:
                del self.screens[event_id]
        if sockets:
            return False
        del self.sockets[event_id]
        for key in (event_id, (event_id, "questions")):
            self._audience_pending.pop(key, None)
            self._last_audience.pop(key, None)
            self._fanout_s.pop(key, None)
        self._state.pop(event_id, None)
        self._results.pop(event_id, None)
        self._questions.pop(event_id, None)
        return True

    def leave_soon(self, event_id: int) -> None:
        # Kept in _tasks so that close() (and test teardown) waits for it.
        task = self._spawn(self._leave(event_id))
        self._tasks.append(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    async def _leave(self, event_id: int) -> None:
        if event_id in self.sockets:  # a socket of the event arrived again meanwhile
            return
        try:
            await self.layer.group_discard(event_group(event_id), self.channel)
        except Exception:  # the layer may be down; membership expires on its own
            logger.warning("group_discard failed for event %s", event_id)

    # ---------------------------------------------------------- state cache

    async def state(self, event_id: int) -> dict[str, Any]:
        """The event's serialised `state` frames, built once per change and shared by every socket."""
        cached = self._state.get(event_id)
        if cached and time.monotonic() - cached[0] < STATE_CACHE_TTL_S:
            return cached[1]
        lock = self._build_locks.setdefault(event_id, asyncio.Lock())
        async with lock:
            cached = self._state.get(event_id)
            if cached and time.monotonic() - cached[0] < STATE_CACHE_TTL_S:
                return cached[1]
            entry = await database_sync_to_async(outbound.build_state_message)(event_id)
            self._state[event_id] = (time.monotonic(), self._with_newest_questions(event_id, entry))
            return self._state[event_id][1]

    def _with_newest_questions(self, event_id: int, state: dict[str, Any]) -> dict[str, Any]:
        """The state with the newest `questions` this hub has seen: a state built before the last
        upvote must not show a reconnecting phone older counts than its neighbours have."""
        newest = self._questions.get(event_id)
        embedded = state.get("questions")
        if newest is not None and (embedded is None or embedded["version"] < newest["version"]):
            return {**state, "questions": newest}
        if embedded is not None and (newest is None or newest["version"] < embedded["version"]):
            self._questions[event_id] = embedded
        return state

    def latest_results(self, event_id: int, poll_id: int | None) -> dict[str, Any] | None:
        """The newest results frame seen for the poll; clients drop it if their state is newer."""
        cached = self._results.get(event_id)
        return cached if cached and poll_id is not None and cached["poll"] == poll_id else None

    # ------------------------------------------------------------- delivery

    async def _read_forever(self) -> None:
        backoff = 0.1
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.healthy = False
                logger.warning("channel layer receive failed; retrying in %.1fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                if await self._rejoin():
                    backoff = 0.1
                continue
            try:
                await self.dispatch(message)
            except Exception:
                logger.exception("fan-out dispatch failed")

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") == "fanout.probe":
            future = self._probes.pop(message.get("probe"), None)
            if future and not future.done():
                future.set_result(True)
            return
        if message.get("type") == ACCESS_MESSAGE_TYPE:
            await self.recheck_access(message["event"])
            return
        if message.get("type") != MESSAGE_TYPE:
            return
        event_id = message["event"]
        kind = message["kind"]
        if kind == "state":
            cached = self._state.get(event_id)
            if cached and cached[1]["version"] > message["version"]:
                return  # a change that was overtaken in flight
            message = self._with_newest_questions(event_id, message)
            self._state[event_id] = (time.monotonic(), message)
            self.closer.wake()  # the change may have started a countdown
        elif kind == "results":
            cached = self._results.get(event_id)
            if cached and cached["poll"] == message["poll"] and cached["version"] >= message["version"]:
                return  # an older tally overtaken by a newer one
            self._results[event_id] = message
        elif kind == "questions":
            cached = self._questions.get(event_id)
            if cached and cached["version"] >= message["version"]:
                return  # overtaken by a newer read
            self._questions[event_id] = message
            state = self._state.get(event_id)
            if state is not None:
                self._state[event_id] = (state[0], self._with_newest_questions(event_id, state[1]))
        await self.deliver(event_id, kind, message)

    async def deliver(self, event_id: int, kind: str, message: dict[str, Any]) -> None:
        if kind not in ("results", "questions"):
            await self._write(list(self.sockets.get(event_id, ())), message)
            return
        # Results and questions reach the projector, the console and the panel at once, every
        # time; the phones of a large audience get the newest one as often as this process can afford.
        screens = self.screens.get(event_id, set())
        await self._write(list(screens), message)
        key = event_id if kind == "results" else (event_id, kind)
        self._audience_pending[key] = message
        if key not in self._audience_pacers:
            self._audience_pacers[key] = self._spawn(self._pace_audience(key))

    async def recheck_access(self, event_id: int) -> None:
        """Who may moderate or present changed: each console and projector checks itself again
        (and closes if it lost the right). Phones are anonymous and unaffected."""
        for socket in list(self.screens.get(event_id, ())):
            try:
                await socket.recheck_access()
            except Exception:
                logger.warning("access recheck of a %s socket failed", socket.role, exc_info=True)

    async def _pace_audience(self, key: Any) -> None:
        event_id = key if isinstance(key, int) else key[0]
        try:
            while key in self._audience_pending:
                wait = self._last_audience.get(key, 0.0) + self.results_spacing(key) - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                message = self._audience_pending.pop(key, None)
                if message is None:
                    break
                self._last_audience[key] = self.loop.time()
                screens = self.screens.get(event_id, set())
                phones = [socket for socket in self.sockets.get(event_id, ()) if socket not in screens]
                self._fanout_s[key] = await self._write(phones, message)
        finally:
            self._audience_pacers.pop(key, None)

    async def _write(self, sockets: list[Socket], message: dict[str, Any]) -> float:
        """Write one frame to many sockets; returns the seconds spent writing."""
        chunk = max(1, settings.CASEBOARD["FANOUT_CHUNK"])
        busy = 0.0
        for start in range(0, len(sockets), chunk):
            if start:
                # Let acks, ballots and handshakes through during a large fan-out.
                await asyncio.sleep(0)
            began = time.perf_counter()
            for socket in sockets[start : start + chunk]:
                try:
                    await socket.deliver(message)
                except Exception:
                    logger.debug("delivery to a closing socket failed", exc_info=True)
            busy += time.perf_counter() - began
        return busy

    # ----------------------------------------------- recovery after layer loss

    async def _rejoin(self) -> bool:
        """Re-add every group and resync local sockets: broadcasts may have been lost."""
        try:
            for event_id in list(self.sockets):
                await self.layer.group_add(event_group(event_id), self.channel)
        except Exception:
            return False
        self.healthy = True
        await self.resync_all()
        return True

    async def resync_all(self) -> None:
        self._state.clear()
        self._results.clear()
        self._questions.clear()
        for event_id in list(self.sockets):
            try:
                entry = await self.state(event_id)
            except Exception:
                logger.warning("resync of event %s failed", event_id)
                continue
            await self.deliver(event_id, "state", entry)

    async def _watch_membership(self) -> None:
        """A layer that restarted empty forgets group members silently: check, rejoin, resync."""
        while True:
            await asyncio.sleep(MEMBERSHIP_CHECK_S)
            for event_id in list(self.sockets):
                try:
                    member = await self.is_member(event_id)
                except Exception:
                    self.healthy = False  # the layer is down; the reader rejoins when it returns
                    break
                if not member:
                    logger.warning("fan-out lost group membership of event %s; rejoining", event_id)
                    await self._rejoin()
                    break

    async def is_member(self, event_id: int) -> bool:
        """Ask the layer itself whether this hub is still in the event's group.

        Asking (one ZSCORE on Redis) rather than timing a probe message keeps a busy event loop
        from looking like lost membership and resyncing every socket for nothing.
        """
        group = event_group(event_id)
        layer = self.layer
        # channels_redis has no public "is this channel in that group"; its group key and shard
        # choice are internals. tests/polls/live/test_library_internals.py fails loudly if a new
        # channels_redis changes them (the fallback below would then probe instead).
        if hasattr(layer, "_group_key") and hasattr(layer, "consistent_hash"):  # channels_redis
            connection = layer.connection(layer.consistent_hash(group))
            return await connection.zscore(layer._group_key(group), self.channel) is not None
        groups = getattr(layer, "groups", None)
        if isinstance(groups, dict):  # the in-memory layer
            return self.channel in groups.get(group, {})
        return await self.probe(event_id)

    async def probe(self, event_id: int) -> bool:
        token = uuid.uuid4().hex
        future = self.loop.create_future()
        self._probes[token] = future
        try:
            await self.layer.group_send(event_group(event_id), {"type": "fanout.probe", "probe": token})
            async with asyncio.timeout(PROBE_TIMEOUT_S):  # wait_for may swallow a cancellation on 3.11
                await future
            return True
        except Exception:
            self.healthy = False
            return False
        finally:
            self._probes.pop(token, None)

    # ------------------------------------------------------ results pacing

    def mark_dirty(self, event_id: int, poll_id: int) -> None:
        """A vote or a change of visibility: a results broadcast of the poll is due (coalesced)."""
        self.coalescer.mark_dirty(event_id, poll_id)

    def mark_questions_dirty(self, event_id: int) -> None:
        """A question was asked, upvoted or moderated: a `questions` broadcast is due (coalesced)."""
        self.questions_coalescer.mark_event_dirty(event_id)

    def results_spacing(self, event_id: Any) -> float:
        """Seconds between results frames on the event's phones: RESULTS_MIN_INTERVAL_S, or longer
        when this process's last fan-out to them took so long that frames at that pace would take
        more than RESULTS_FANOUT_SHARE of the loop (thousands of sockets on a slow server)."""
        limits = settings.CASEBOARD
        share = limits["RESULTS_FANOUT_SHARE"]
        if not isinstance(event_id, int):  # (event, "questions"): a list of every question, tens of KB per phone
            share *= QUESTIONS_SHARE_OF_RESULTS
        return max(limits["RESULTS_MIN_INTERVAL_S"], self._fanout_s.get(event_id, 0.0) / share)

    async def drain(self) -> None:
        """Wait until every pending results frame has been broadcast and written (tests, shutdown)."""
        while self.coalescer.tasks() or self.questions_coalescer.tasks() or self._audience_pacers:
            await asyncio.gather(
                *self.coalescer.tasks(),
                *self.questions_coalescer.tasks(),
                *list(self._audience_pacers.values()),
                return_exceptions=True,
            )
