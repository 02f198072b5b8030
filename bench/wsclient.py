"""A lean websocket client for the load generator: websockets' sans-I/O protocol under an asyncio.Protocol.

websockets' own asyncio client costs about 40 µs of generator CPU per received message (a task
wake-up, a queue and futures per frame); 5,000 phones receiving coalesced results take ~20,000
frames/s, which made the generator, not the server, the bottleneck. Driving the same library's
sans-I/O `ClientProtocol` from callbacks costs about a quarter of that: frames are parsed by
websockets, and each text message is handed to `on_text` as soon as it arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Origin
from websockets.uri import parse_uri


class HandshakeError(Exception):
    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class Connection(asyncio.Protocol):
    """One client socket. `opened` resolves after the handshake; `closed` when the socket is gone."""

    def __init__(self, url: str, *, origin: str, cookie: str, on_text: Callable[[str], None]) -> None:
        self.ws = ClientProtocol(parse_uri(url), origin=Origin(origin), max_size=2**20)
        self.cookie = cookie
        self.on_text = on_text
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future = loop.create_future()
        self.closed: asyncio.Future = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self._fragments: list[bytes] = []

    @property
    def is_open(self) -> bool:
        return self.opened.done() and not self.closed.done() and self.ws.state is State.OPEN

    # ------------------------------------------------------------ asyncio callbacks

    def connection_made(self, transport) -> None:
        self.transport = transport
        request = self.ws.connect()
        request.headers["Cookie"] = self.cookie
        self.ws.send_request(request)
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Frame):
                self._frame(event)
            elif isinstance(event, Response):
                self._handshake(event)
        self._flush()

    def eof_received(self) -> bool:
        self.ws.receive_eof()
        self._flush()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_result(HandshakeError(None, f"connection lost during handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)

    # ----------------------------------------------------------------- internals

    def _handshake(self, response: Response) -> None:
        if self.opened.done():
            return
        error = self.ws.handshake_exc
        if error is None:
            self.opened.set_result(None)
            return
        status = error.response.status_code if isinstance(error, InvalidStatus) else None
        self.opened.set_result(HandshakeError(status, str(error)))
        self.abort()

    def _frame(self, frame: Frame) -> None:
        if frame.opcode is Opcode.TEXT or frame.opcode is Opcode.CONT:
            if frame.fin and not self._fragments:
                self.on_text(frame.data.decode())
            else:
                self._fragments.append(frame.data)
                if frame.fin:
                    text = b"".join(self._fragments).decode()
                    self._fragments.clear()
                    self.on_text(text)
        elif frame.opcode is Opcode.CLOSE and self.transport is not None:
            self._flush()
            self.transport.close()

    def _flush(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        for chunk in self.ws.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    # --------------------------------------------------------------------- API

    def send_text(self, text: str) -> bool:
        if not self.is_open:
            return False
        self.ws.send_text(text.encode())
        self._flush()
        return True

    def abort(self) -> None:
        """Drop the socket without a closing handshake (a lost network)."""
        if self.transport is not None:
            self.transport.abort()


async def connect(url: str, *, origin: str, cookie: str, on_text: Callable[[str], None]) -> Connection:
    """Open a connection to ws://127.0.0.1:<port>/...; raises HandshakeError or OSError."""
    uri = parse_uri(url)
    if uri.host not in ("127.0.0.1", "localhost"):
        raise ValueError("the benchmark only talks to 127.0.0.1")
    loop = asyncio.get_running_loop()
    conn = Connection(url, origin=origin, cookie=cookie, on_text=on_text)
    try:
        await loop.create_connection(lambda: conn, "127.0.0.1", uri.port)
        error = await conn.opened
    except BaseException:
        conn.abort()
        raise
    if error is not None:
        raise error
    return conn
