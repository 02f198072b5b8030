"""Security tests attack a real daphne, as an outside client would: its own database, a free port."""

from __future__ import annotations

import functools
import http.client
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

    def __init__(self, server: Server, *, source: str | None = None, url: str | None = None) -> None:
        """`source`: the local address to connect from (any of 127.0.0.0/8 on Linux), so one
        machine can play clients at several addresses. `url`: another way in (a proxy)."""
        self.server = server
        self.base = url or server.url
        self.source = source
        self.jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()]
        if source:
            handlers.append(FromAddress(source))
        self.opener = urllib.request.build_opener(*handlers)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def get(self, path: str, **headers: str) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base + path, headers=headers)  # noqa: S310 (local)
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def post(self, path: str, body: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
        token = self.cookie("csrftoken") or ""
        request = urllib.request.Request(  # noqa: S310 (local)
            self.base + path,
            data=body,
            headers={"Content-Type": content_type, "X-CSRFToken": token, "Referer": self.base + "/"},
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
        return {"Cookie": cookies, "Origin": self.base}

    def ws(self, path: str, **headers: str):
        from websockets.sync.client import connect

        url = self.base.replace("http://", "ws://") + path
        extra = {"source_address": (self.source, 0)} if self.source else {}
        return connect(
            url, additional_headers={**self.ws_headers(), **headers}, open_timeout=20, max_size=2**22, **extra
        )


class FromAddress(urllib.request.HTTPHandler):
    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def http_open(self, request):
        return self.do_open(functools.partial(http.client.HTTPConnection, source_address=(self.source, 0)), request)


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


def forget_limit_counters() -> None:
    """Empty this run's cache (the limit counters live there), and only this run's.

    Django's RedisCache.clear() is FLUSHDB: it would also wipe the sessions, counters and channel
    layer keys of another test run sharing the Redis database, which then fails at random."""
    from django.conf import settings
    from django.core.cache import cache

    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith("RedisCache"):
        cache.clear()  # process-local
        return
    import redis

    with redis.Redis.from_url(config["LOCATION"], socket_connect_timeout=5) as client:
        # Django's cache keys are "<KEY_PREFIX>:<version>:<key>"; the channel layer's share the
        # run's prefix without the colon and are left alone.
        keys = list(client.scan_iter(match=f"{config['KEY_PREFIX']}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])


@pytest.fixture
async def asgi_sockets():
    """Websockets opened through the ASGI app (tests.security.asgi.Browser.ws) are closed after the
    test, and the fan-out hub stopped. Every limit counter starts empty."""
    from channels.db import database_sync_to_async
    from django.db import connections

    from polls import joins
    from polls.live.hub import Hub

    forget_limit_counters()
    getattr(joins, "_in_use_written", {}).clear()
    opened = []
    yield opened
    for communicator in opened:
        try:
            await communicator.disconnect()
        except Exception:
            pass
    hub = Hub.for_running_loop()
    if hub is not None:
        await hub.close()
    await database_sync_to_async(connections.close_all)()
