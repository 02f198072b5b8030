"""Websocket test helpers: connect through the real application, read frames by type, open sockets of a world.

Every wait here is for a frame, with a generous timeout that only runs out when the frame never
comes: a loaded machine makes a test slower, never wrong.
"""

from __future__ import annotations

import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from caseboard.asgi import application
from tests.frames import BROADCASTS, answer_only

FRAME_TIMEOUT_S = 10  # how long a test waits for a frame that must come
CONNECT_TIMEOUT_S = 20  # a handshake waits for the database thread, which other sockets share

# The websocket path of each role below /ws/e/<code>/ (polls/live/routing.py).
ROLE_PATHS = {"participant": "", "presenter": "present/", "moderator": "moderate/", "panelist": "panel/"}


def communicator_for(
    path: str, *, session_key: str | None = None, origin: str = "http://testserver", ip: str = "127.0.0.1"
) -> WebsocketCommunicator:
    """A client of the real ASGI application; `ip` is the address daphne would put in scope["client"]."""
    headers = [(b"origin", origin.encode()), (b"host", b"testserver")]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    communicator.scope["client"] = (ip, 50000)  # read when the application starts, on first input
    return communicator


async def receive(communicator: WebsocketCommunicator, timeout: float = FRAME_TIMEOUT_S) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def receive_type(
    communicator: WebsocketCommunicator, kind: str, timeout: float = FRAME_TIMEOUT_S, **match
) -> dict:
    """Skip frames until one of `kind` (and matching fields) arrives."""
    while True:
        frame = await receive(communicator, timeout=timeout)
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


async def reply(communicator: WebsocketCommunicator, timeout: float = FRAME_TIMEOUT_S) -> dict:
    """The next frame that answers this client (broadcast `state` and `results` frames are skipped)."""
    while True:
        frame = await receive(communicator, timeout=timeout)
        if frame["type"] not in BROADCASTS:
            return answer_only(frame)


async def send(communicator: WebsocketCommunicator, frame: dict) -> None:
    await communicator.send_to(text_data=json.dumps(frame))


async def results_until(
    communicator: WebsocketCommunicator, poll_id: int, total: int, timeout: float = FRAME_TIMEOUT_S
) -> dict:
    """Read results frames until one reports `total` ballots (coalescing may skip intermediate totals)."""
    while True:
        frame = await receive(communicator, timeout=timeout)
        if frame["type"] == "results" and frame["poll"] == poll_id and frame["total"] == total:
            return frame
        if frame["type"] == "state" and frame.get("results") and frame["results"]["poll"] == poll_id:
            if frame["results"]["total"] == total:
                return frame["results"]


async def ack_and_state(
    communicator: WebsocketCommunicator, ref: str, timeout: float = FRAME_TIMEOUT_S
) -> tuple[dict, dict]:
    """A command's ack and the state it caused, in whichever order they arrive (the broadcast may win)."""
    ack = state = None
    while ack is None or state is None:
        frame = await receive(communicator, timeout=timeout)
        if frame["type"] in {"ack", "error"} and frame.get("ref") == ref:
            ack = frame
        elif frame["type"] == "state":
            state = frame
    return ack, state


async def state_where(communicator: WebsocketCommunicator, predicate, timeout: float = FRAME_TIMEOUT_S) -> dict:
    """The next `state` frame for which predicate holds (repeated states are skipped)."""
    while True:
        frame = await receive_type(communicator, "state", timeout=timeout)
        if predicate(frame):
            return frame


# ----------------------------------------------------------- sockets of a world (tests/factories.py)


async def open_socket(
    ws, w, role: str = "participant", *, index: int | None = None, key: str | None = None, query: str = ""
):
    """A socket of `role` on the world's event that has received its first `state`: (socket, state).

    A participant uses the world's `phone_keys[index]`, or joins anew when no index is given;
    a panelist uses `panelist_keys[index or 0]`; the presenter and the moderator the moderator's session.
    """
    if key is None:
        if role == "participant":
            key = w.phone_keys[index] if index is not None else await database_sync_to_async(w.new_phone_key)()
        elif role == "panelist":
            key = w.panelist_keys[index or 0]
        else:
            assert w.moderator_key, "build_world(moderator_session=True) for a presenter or moderator socket"
            key = w.moderator_key
    socket, ok, detail = await ws(f"/ws/e/{w.code}/{ROLE_PATHS[role]}{query}", session_key=key)
    assert ok, detail
    state = await receive(socket)
    assert state["type"] == "state", state
    return socket, state


async def open_phone(ws, w, index: int | None = 0):
    """The socket of the world's phone `index` (a new participant if None), past its first `state`."""
    return (await open_socket(ws, w, "participant", index=index))[0]


async def open_console(ws, w, role: str = "moderator"):
    """The moderator's console (or with role="presenter", the projector), past its first `state`."""
    return (await open_socket(ws, w, role))[0]


# ------------------------------------------------------------------- ballots

# build_world's options for the fault tests: an open poll with options A, B and C, and a console.
OPEN_POLL_WORLD = {"labels": ("A", "B", "C"), "opened": True, "moderator_session": True}


def vote_frame(w, ref: str, option: int = 0) -> dict:
    return {"type": "vote", "ref": ref, "poll": w.poll.id, "options": [w.options[option]]}


def ack_frame(w, ref: str, option: int = 0) -> dict:
    return {"type": "ack", "ref": ref, "poll": w.poll.id, "options": [w.options[option]]}


def error_frame(ref: str | None, code: str) -> dict:
    from polls.errors import ERROR_CODES

    return {"type": "error", "ref": ref, "code": code, "message": ERROR_CODES[code]}


@database_sync_to_async
def tally(w) -> dict:
    """The world poll's tally as the database holds it: totals, counts per option, rows."""
    from polls import selectors
    from polls.models import Vote, VoteReceipt

    total, counts = selectors.poll_tally(poll_id=w.poll.id)
    return {
        "total": total,
        "counts": counts,
        "votes": Vote.objects.filter(poll_id=w.poll.id).count(),
        "receipts": VoteReceipt.objects.filter(poll_id=w.poll.id).count(),
    }


async def wait_until(predicate, timeout: float = FRAME_TIMEOUT_S, what: str = "the condition") -> None:
    """Wait for `predicate()` to hold (checked at every turn of the event loop and every 10 ms)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"{what} did not hold within {timeout} s"
        await asyncio.sleep(0.01)


class ManualClock:
    """A monotonic clock (seconds) that moves only when the test says: inject it where code takes a clock."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class VirtualTime:
    """Virtual time for the running event loop: timers fire in order, at once, and the loop's clock
    jumps to them, so a test of pacing asserts exact intervals instead of measuring wall-clock time.

    The loop still waits for real I/O and threads when no timer is due; while a timer is pending,
    a thread's work takes no virtual time, so use it for code that runs on the loop alone.
    `spend(seconds)` stands for CPU time spent without yielding (the clock moves, no timer fires).
    """

    def __init__(self, loop) -> None:
        self.loop = loop
        self.now = loop.time()
        self._selector = loop._selector
        self._real_select = self._selector.select

    def time(self) -> float:
        return self.now

    def spend(self, seconds: float) -> None:
        self.now += seconds

    def _select(self, timeout=None):
        if timeout is None or timeout <= 0:
            return self._real_select(timeout)
        events = self._real_select(0)
        if not events:
            self.now += timeout  # nothing to do before the next timer: be there
        return events

    def __enter__(self) -> VirtualTime:
        self.loop.time = self.time
        self._selector.select = self._select
        return self

    def __exit__(self, *exc) -> None:
        del self.loop.time
        del self._selector.select
