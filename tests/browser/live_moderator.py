"""The moderator's side of the phone tests, driven through the moderator websocket and HTTP, not the console page.

The console's markup is changing while these tests are written; the protocol (docs/protocol.md)
is the stable contract, so the phone tests open, close and reveal polls with frames, as
deploy/check.py does, and read the server's tally from `/e/<CODE>/polls/<id>/results.json`.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from dataclasses import dataclass

from websockets.sync.client import connect

from tests.browser.conftest import Server
from tests.browser.pages import CODE

FRAME_TIMEOUT_S = 10


def session_cookie(storage: dict) -> str:
    return next(c["value"] for c in storage["cookies"] if c["name"] == "sessionid")


def frames_until(ws, predicate, seconds: float = FRAME_TIMEOUT_S) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if predicate(frame):
            return frame
    raise TimeoutError("the expected frame did not arrive")


@dataclass
class Moderator:
    """A moderator session speaking the protocol: one short connection per command."""

    server: Server
    storage: dict

    def _connect(self):
        url = self.server.url.replace("http://", "ws://") + f"/ws/e/{CODE}/moderate/"
        return connect(
            url,
            origin=self.server.url,
            additional_headers={"Cookie": f"sessionid={session_cookie(self.storage)}"},
            open_timeout=FRAME_TIMEOUT_S,
        )

    def state(self) -> dict:
        with self._connect() as ws:
            return frames_until(ws, lambda f: f["type"] == "state")

    def polls(self) -> list[dict]:
        return [poll for case in self.state()["agenda"] for poll in case["polls"]]

    def poll(self, kind: str) -> dict:
        """The first poll of this kind on the agenda."""
        return next(p for p in self.polls() if p["kind"] == kind)

    def command(self, type_: str, **fields) -> dict:
        """Send one command and return its ack (an error frame fails the test)."""
        ref = f"test-{uuid.uuid4().hex[:12]}"
        with self._connect() as ws:
            frames_until(ws, lambda f: f["type"] == "state")
            ws.send(json.dumps({"type": type_, "ref": ref, **fields}))
            reply = frames_until(ws, lambda f: f.get("ref") == ref and f["type"] in {"ack", "error"})
        assert reply["type"] == "ack", reply
        return reply

    def open(self, poll: int, **fields) -> dict:
        return self.command("open_poll", poll=poll, **fields)

    def close(self, poll: int) -> dict:
        return self.command("close_poll", poll=poll)

    def results(self, poll: int) -> dict:
        """The server's tally from the database (the moderator's JSON endpoint)."""
        request = urllib.request.Request(  # noqa: S310 (the local test server)
            f"{self.server.url}/e/{CODE}/polls/{poll}/results.json",
            headers={"Cookie": f"sessionid={session_cookie(self.storage)}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the local test server)
            return json.load(response)


def shell(server: Server, code: str) -> str:
    """Run Python in `manage.py shell` against the server's database; returns the last line printed."""
    return server.manage("shell", "-c", code).strip().splitlines()[-1]
