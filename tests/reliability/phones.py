"""Scripted websocket clients for real servers: phones, presenter and console, reconnecting like static/js/live.js."""

from __future__ import annotations

import asyncio
import json
import random
import time

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.frames import BROADCASTS, answer_only

BACKOFF_START_S = 0.5  # static/js/live.js: 0.5 s doubling to 15 s, each delay times 0.5-1.5
BACKOFF_MAX_S = 15.0


# Clients with an open socket: the `close_clients` fixture (tests/reliability/conftest.py) drops
# what a test left open, so a failed test's sockets are not garbage-collected in a later one.
OPEN: set[Client] = set()


def backoff_delay(attempt: int, rng: random.Random) -> float:
    return min(BACKOFF_MAX_S, BACKOFF_START_S * 2 ** min(attempt, 10)) * (0.5 + rng.random())


class Client:
    def __init__(self, path: str, session_key: str) -> None:
        self.path, self.session_key = path, session_key
        self.ws: ClientConnection | None = None
        self.attempts = 0
        self.frames: list[dict] = []

    def drop(self) -> None:
        """Forget a dead socket, releasing its transport (a dropped peer may leave it half-open)."""
        if self.ws is not None:
            self.ws.transport.abort()
            self.ws = None
        OPEN.discard(self)

    async def connect(self, worker, timeout: float = 10) -> dict:
        """Open the socket on `worker` and return the `state` frame every connection starts with."""
        self.drop()
        self.attempts += 1
        self.ws = await connect(
            worker.ws_url(self.path),
            origin=f"http://127.0.0.1:{worker.port}",
            additional_headers={"Cookie": f"sessionid={self.session_key}"},
            open_timeout=timeout,
            ping_interval=None,
            close_timeout=2,
        )
        OPEN.add(self)
        return await self.next("state", timeout=timeout)

    async def join(self, worker, timeout: float = 60) -> dict:
        """Connect as static/js/live.js does: a refused handshake (daphne answers 403 when the
        server sheds a handshake that waited too long, or when its own connect timeout passes on
        a loaded machine) is retried with the client's backoff until `timeout`; returns `state`."""
        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            try:
                return await self.connect(worker, timeout=max(1.0, min(30.0, deadline - time.monotonic())))
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
                self.drop()
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(backoff_delay(attempt, random.Random(attempt)))
            attempt += 1

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame))

    async def receive(self, timeout: float) -> dict:
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def next(self, *kinds: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.receive(max(0.01, deadline - time.monotonic()))
            if frame["type"] in kinds:
                return frame

    async def reply(self, timeout: float = 10) -> dict:
        """The next ack, error or pong (broadcasts are kept in `frames` and skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.receive(max(0.01, deadline - time.monotonic()))
            if frame["type"] not in BROADCASTS:
                return answer_only(frame)

    async def results(self, poll: int, total: int, timeout: float) -> float:
        """Wait until a results frame (or a state frame's results) reports `total`; return the seconds waited."""
        began = time.monotonic()
        deadline = began + timeout
        for frame in self.frames:
            if _total(frame, poll) == total:
                return 0.0
        while True:
            frame = await self.receive(max(0.01, deadline - time.monotonic()))
            if _total(frame, poll) == total:
                return time.monotonic() - began

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await self.ws.close()
            except Exception:
                pass
            self.drop()


def _total(frame: dict, poll: int) -> int | None:
    if frame["type"] == "results" and frame["poll"] == poll:
        return frame["total"]
    if frame["type"] == "state" and frame.get("results") and frame["results"]["poll"] == poll:
        return frame["results"]["total"]
    return None


class Phone(Client):
    """A participant that keeps one pending vote until the server acks or refuses it (same ref on every resend)."""

    def __init__(self, code: str, session_key: str, rng: random.Random) -> None:
        super().__init__(f"/ws/e/{code}/", session_key)
        self.rng = rng
        self.pending: dict | None = None
        self.outcome: dict | None = None
        self.failed_attempts = 0

    async def vote(self, frame: dict, timeout: float = 10) -> dict:
        """Send the vote and wait for its answer; raises ConnectionClosed if the socket drops first."""
        self.pending = frame
        await self.send(frame)
        answer = await self.reply(timeout)
        self.outcome = answer
        if answer["type"] == "ack" or answer.get("code") not in ("unavailable", "server_error", "rate_limited"):
            self.pending = None
        return answer

    async def reconnect(self, worker, deadline: float, log: list | None = None) -> dict:
        """Reconnect with live.js's jittered backoff until `deadline`; returns the `state` frame."""
        attempt = 0
        while True:
            await asyncio.sleep(backoff_delay(attempt, self.rng))
            attempt += 1
            if log is not None:
                log.append(time.monotonic())
            try:
                return await self.connect(worker, timeout=10)
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
                self.failed_attempts += 1
                if time.monotonic() > deadline:
                    raise

    async def finish(self, worker, deadline: float) -> dict:
        """Reconnect and resend the pending vote (same ref) until it is answered."""
        while True:
            try:
                if self.ws is None or self.ws.state.name != "OPEN":
                    await self.reconnect(worker, deadline)
                if self.pending is None:
                    return self.outcome
                answer = await self.vote(self.pending)
                if self.pending is None:
                    return answer
                await asyncio.sleep(backoff_delay(0, self.rng))
            except (ConnectionClosed, OSError, TimeoutError):
                self.drop()
                if time.monotonic() > deadline:
                    raise
