"""Websocket test helpers: connect through the real application, read frames by type."""

from __future__ import annotations

import json

from channels.testing import WebsocketCommunicator

from caseboard.asgi import application
from tests.frames import BROADCASTS, answer_only


async def connect(path: str, *, session_key: str | None = None, origin: str = "http://testserver"):
    headers = [(b"origin", origin.encode()), (b"host", b"testserver")]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, detail = await communicator.connect(timeout=5)
    return communicator, connected, detail


async def receive(communicator: WebsocketCommunicator, timeout: float = 3) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def receive_type(communicator: WebsocketCommunicator, kind: str, timeout: float = 3, **match) -> dict:
    """Skip frames until one of `kind` (and matching fields) arrives."""
    while True:
        frame = await receive(communicator, timeout=timeout)
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


async def reply(communicator: WebsocketCommunicator, timeout: float = 5) -> dict:
    """The next frame that answers this client (broadcast `state` and `results` frames are skipped)."""
    while True:
        frame = await receive(communicator, timeout=timeout)
        if frame["type"] not in BROADCASTS:
            return answer_only(frame)


async def send(communicator: WebsocketCommunicator, frame: dict) -> None:
    await communicator.send_to(text_data=json.dumps(frame))


async def results_until(communicator: WebsocketCommunicator, poll_id: int, total: int, timeout: float = 3) -> dict:
    """Read results frames until one reports `total` ballots (coalescing may skip intermediate totals)."""
    while True:
        frame = await receive(communicator, timeout=timeout)
        if frame["type"] == "results" and frame["poll"] == poll_id and frame["total"] == total:
            return frame
        if frame["type"] == "state" and frame.get("results") and frame["results"]["poll"] == poll_id:
            if frame["results"]["total"] == total:
                return frame["results"]


async def ack_and_state(communicator: WebsocketCommunicator, ref: str, timeout: float = 3) -> tuple[dict, dict]:
    """A command's ack and the state it caused, in whichever order they arrive (the broadcast may win)."""
    ack = state = None
    while ack is None or state is None:
        frame = await receive(communicator, timeout=timeout)
        if frame["type"] in {"ack", "error"} and frame.get("ref") == ref:
            ack = frame
        elif frame["type"] == "state":
            state = frame
    return ack, state


async def state_where(communicator: WebsocketCommunicator, predicate, timeout: float = 3) -> dict:
    """The next `state` frame for which predicate holds (repeated states are skipped)."""
    while True:
        frame = await receive_type(communicator, "state", timeout=timeout)
        if predicate(frame):
            return frame
