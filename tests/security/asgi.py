"""Browsers against the ASGI application in this process, each from an address of its choosing.

What `scope["client"]` says is what daphne would put there: the connection's peer. A browser
behind a proxy sends from the proxy's address with an `X-Forwarded-For` header.
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from channels.testing import HttpCommunicator, WebsocketCommunicator

from caseboard.asgi import application


class Browser:
    def __init__(self, ip: str, *, forwarded_for: str | None = None) -> None:
        self.ip = ip
        self.forwarded_for = forwarded_for
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict[str, str] | None = None) -> list[tuple[bytes, bytes]]:
        headers = {"host": "testserver", **(extra or {})}
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.forwarded_for is not None:
            headers["x-forwarded-for"] = self.forwarded_for
        return [(k.encode(), v.encode()) for k, v in headers.items()]

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict | None = None
    ) -> tuple[int, bytes]:
        communicator = HttpCommunicator(application, method, path, body=body, headers=self._headers(headers))
        communicator.scope["client"] = (self.ip, 51000)
        response = await communicator.get_response(timeout=10)
        for name, value in response["headers"]:
            if name.lower() == b"set-cookie":
                for morsel in SimpleCookie(value.decode()).values():
                    self.cookies[morsel.key] = morsel.value
        await communicator.wait()
        return response["status"], response["body"]

    async def get(self, path: str, **params: str) -> tuple[int, bytes]:
        return await self.request("GET", path + (f"?{urlencode(params)}" if params else ""))

    async def post_json(self, path: str, frame: dict) -> tuple[int, dict]:
        if "csrftoken" not in self.cookies:
            await self.get("/accounts/login/")  # any form page hands out the CSRF cookie
        status, body = await self.request(
            "POST",
            path,
            json.dumps(frame).encode(),
            {
                "content-type": "application/json",
                "x-csrftoken": self.cookies.get("csrftoken", ""),
                "referer": "http://testserver/",
            },
        )
        return status, json.loads(body)

    async def ws(self, path: str) -> tuple[WebsocketCommunicator, bool, int | None]:
        """Open a websocket with this browser's cookies; (communicator, accepted, close code)."""
        headers = [(b"origin", b"http://testserver"), *self._headers()]
        communicator = WebsocketCommunicator(application, path, headers=headers)
        communicator.scope["client"] = (self.ip, 51001)
        connected, detail = await communicator.connect(timeout=10)
        return communicator, connected, detail
