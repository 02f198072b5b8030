"""Security tests attack a real daphne, as an outside client would: its own database, a free port."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.parse
import urllib.request

import pytest

from tests.daphne import Server, serve_demo


@pytest.fixture(scope="module")
def daphne(tmp_path_factory) -> Server:
    server = serve_demo(tmp_path_factory.mktemp("caseboard-security"))
    try:
        yield server
    finally:
        server.stop()


class Client:
    """One browser's cookies against the server: a participant's phone or a logged-in user."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def get(self, path: str, **headers: str) -> tuple[int, bytes]:
        request = urllib.request.Request(self.server.url + path, headers=headers)  # noqa: S310 (local)
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def post(self, path: str, body: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
        token = self.cookie("csrftoken") or ""
        request = urllib.request.Request(  # noqa: S310 (local)
            self.server.url + path,
            data=body,
            headers={"Content-Type": content_type, "X-CSRFToken": token, "Referer": self.server.url + "/"},
        )
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def join(self, code: str = "CASE2") -> Client:
        status, _ = self.get(f"/e/{code}/")
        assert status == 200, status
        return self

    def login(self, username: str = "moderator", password: str | None = None) -> Client:
        self.get("/accounts/login/")
        form = {
            "username": username,
            "password": password or self.server.password,
            "csrfmiddlewaretoken": self.cookie("csrftoken"),
            "next": "/",
        }
        status, _ = self.post(
            "/accounts/login/", urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
        )
        assert status == 302 and self.cookie("sessionid"), f"login as {username} failed ({status})"
        return self

    def ws_headers(self) -> dict[str, str]:
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        return {"Cookie": cookies, "Origin": self.server.url}

    def ws(self, path: str):
        from websockets.sync.client import connect

        url = self.server.url.replace("http://", "ws://") + path
        return connect(url, additional_headers=self.ws_headers(), open_timeout=20, max_size=2**22)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def receive_type(socket, kind: str, timeout: float = 10) -> dict:
    while True:
        frame = json.loads(socket.recv(timeout=timeout))
        if frame.get("type") == kind:
            return frame


def run_django(server: Server, code: str) -> str:
    """Run Python with Django set up against the server's database (a state an attacker left)."""
    return server.manage("shell", "-c", code)
