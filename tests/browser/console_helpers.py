"""Phones and panelists that vote over their own websocket, for the console and presenter tests.

The phone page is rebuilt in parallel, so these tests cast ballots the way a phone does on the
wire (docs/protocol.md): a browser session that opened `/e/<CODE>/` gets a participant, and its
`sessionid` cookie authenticates `/ws/e/<CODE>/`. What is under test here is the console and the
presenter, driven through Playwright.
"""

from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.request
import uuid
from typing import Any

from websockets.sync.client import connect

from tests.browser.pages import CODE

FRAME_TIMEOUT_S = 10

PANELIST_SESSION = """
from django.contrib.auth import get_user_model, BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from polls.models import Event
user, _ = get_user_model().objects.get_or_create(username={username!r})
Event.objects.get(code={code!r}).panelists.add(user)
s = SessionStore()
s[SESSION_KEY] = str(user.pk)
s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
s[HASH_SESSION_KEY] = user.get_session_auth_hash()
s.create()
print(s.session_key)
"""


def _frames_until(ws, predicate) -> dict[str, Any]:
    deadline = time.monotonic() + FRAME_TIMEOUT_S
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the expected frame did not arrive")
        frame = json.loads(ws.recv(timeout=left))
        if predicate(frame):
            return frame


class WirePhone:
    """One participant (or panelist): a session cookie, and a socket opened per action."""

    def __init__(self, base_url: str, *, session: str | None = None, path: str = f"/ws/e/{CODE}/") -> None:
        self.base_url = base_url
        self.path = path
        self.session = session or self._join()

    def _join(self) -> str:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{self.base_url}/e/{CODE}/", timeout=10).close()  # noqa: S310 (the local test server)
        return next(c.value for c in jar if c.name == "sessionid")

    def send(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send one frame after the connect snapshot; return its ack (an error frame fails the test)."""
        ref = frame.setdefault("ref", uuid.uuid4().hex)
        url = self.base_url.replace("http://", "ws://") + self.path
        with connect(url, origin=self.base_url, additional_headers={"Cookie": f"sessionid={self.session}"}) as ws:
            _frames_until(ws, lambda f: f["type"] == "state")
            ws.send(json.dumps(frame))
            reply = _frames_until(ws, lambda f: f.get("ref") == ref and f["type"] in {"ack", "error"})
        assert reply["type"] == "ack", reply
        return reply

    def vote(self, poll: int, **ballot: Any) -> dict[str, Any]:
        return self.send({"type": "vote", "poll": poll, **ballot})

    def profile(self, **answers: str) -> dict[str, Any]:
        return self.send({"type": "profile", "answers": answers})


def phones(base_url: str, n: int) -> list[WirePhone]:
    return [WirePhone(base_url) for _ in range(n)]


def panelist(server, username: str) -> WirePhone:
    """A panelist of CASE2 (created if needed) voting through the panel socket."""
    out = server.manage("shell", "-c", PANELIST_SESSION.format(username=username, code=CODE))
    return WirePhone(server.url, session=out.strip().splitlines()[-1], path=f"/ws/e/{CODE}/panel/")


def option_ids(console_page, poll: int) -> list[int]:
    """The option ids of a poll, in order, read from the console's agenda."""
    items = console_page.locator(f'[data-poll-id="{poll}"] .agenda-options li')
    return [int(x) for x in items.evaluate_all("els => els.map(e => e.dataset.optionId)")]
