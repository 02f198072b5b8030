"""caseboard/serve.py against the daphne, autobahn and Twisted installed here.

serve.py uses public interfaces where there are any. Two internals remain because nothing public
does the job; the tests named `test_internal_*` fail, naming the library and what to do, when an
installed version changes one of them:

- daphne's `Server.connections`: the only place daphne keeps its protocol objects (to close them);
- autobahn's `sendCloseFrame()` with the protocol's `state`: the public closes (ASGI's
  `websocket.close` through daphne, autobahn's `sendClose()`) refuse 1001, the going-away code.

The other tests pin the public behaviour serve.py relies on, then run it for real in a subprocess.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from importlib.metadata import version
from pathlib import Path

import pytest
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from daphne.server import Server
from twisted.internet.address import IPv4Address
from twisted.internet.protocol import Factory
from twisted.internet.testing import StringTransport
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from caseboard.serve import (
    CLOSE_GOING_AWAY,
    DAPHNE_CONNECT_TIMEOUT_S,
    FrameTracker,
    GracefulCommandLineInterface,
    GracefulServer,
    listening_ports,
)

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.caseboard.serve_app:application"
DAPHNE = f"daphne {version('daphne')}"
AUTOBAHN = f"autobahn {version('autobahn')}"


async def asgi_app(scope, receive, send):
    pass


# ---------------------------------------------------------------- the two internals


def test_internal_daphne_server_connections_holds_its_protocols():
    why = (
        f"caseboard/serve.py reads daphne's Server.connections (a dict keyed by protocol, made in "
        f"Server.run) to find the websockets it closes with 1001; {DAPHNE} changed it. Find where this "
        f"daphne keeps its live protocols and update GracefulServer._websockets."
    )
    assert "connections" in Server.run.__code__.co_names, why
    server = Server(asgi_app, endpoints=["tcp:port=0:interface=127.0.0.1"])
    server.connections = {}  # as Server.run() makes it
    protocol = object()
    server.protocol_connected(protocol)
    assert list(server.connections) == [protocol], why
    server.protocol_disconnected(protocol)
    assert protocol in server.connections, why  # still there until daphne reaps it

    from daphne.ws_protocol import WebSocketProtocol

    assert issubclass(WebSocketProtocol, WebSocketServerProtocol), (
        f"{DAPHNE}'s websocket protocol is no longer autobahn's WebSocketServerProtocol: caseboard/serve.py "
        f"picks daphne's websockets out of Server.connections by that class and closes them through it."
    )


def open_autobahn_socket() -> tuple[WebSocketServerProtocol, StringTransport]:
    """An autobahn server protocol after a real opening handshake, writing to a StringTransport."""
    factory = WebSocketServerFactory()
    factory.protocol = WebSocketServerProtocol
    factory.setProtocolOptions(openHandshakeTimeout=0, closeHandshakeTimeout=0, autoPingInterval=0)
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 50000))
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(
        b"GET / HTTP/1.1\r\nHost: caseboard\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    transport.clear()
    return protocol, transport


def test_internal_autobahn_send_close_frame_sends_1001_on_an_open_socket():
    why = (
        f"caseboard/serve.py closes daphne's websockets with 1001 through autobahn's internal "
        f"WebSocketProtocol.sendCloseFrame(code=, isReply=) when `state == STATE_OPEN`; {AUTOBAHN} changed "
        f"that. Update the close in GracefulServer._drain_and_close."
    )
    parameters = inspect.signature(WebSocketServerProtocol.sendCloseFrame).parameters
    assert {"code", "isReply"} <= set(parameters), why
    protocol, transport = open_autobahn_socket()
    assert protocol.state == WebSocketServerProtocol.STATE_OPEN, why
    protocol.sendCloseFrame(code=CLOSE_GOING_AWAY, isReply=False)
    assert transport.value() == b"\x88\x02" + CLOSE_GOING_AWAY.to_bytes(2, "big"), why  # FIN+close, 2 bytes
    assert protocol.state != WebSocketServerProtocol.STATE_OPEN, why


def test_the_public_close_still_refuses_1001():
    """When this fails, the internal is no longer needed: close through sendClose() instead."""
    protocol, _ = open_autobahn_socket()
    with pytest.raises(Exception, match="invalid close code"):
        protocol.sendClose(code=CLOSE_GOING_AWAY)
    assert protocol.state == WebSocketServerProtocol.STATE_OPEN


# ---------------------------------------------------------------- the public surface


def test_daphne_server_takes_the_arguments_serve_passes():
    parameters = inspect.signature(Server.__init__).parameters
    for name in ("application", "endpoints", "signal_handlers", "websocket_connect_timeout"):
        assert name in parameters, f"{DAPHNE}'s Server() no longer takes `{name}`, which caseboard/serve.py uses"
    server = GracefulServer(application=asgi_app, endpoints=["tcp:port=0:interface=127.0.0.1"], drain_timeout=2.5)
    assert server.signal_handlers is False  # serve.py handles SIGTERM/SIGINT itself
    assert isinstance(server.application, FrameTracker) and server.application.application is asgi_app
    assert server.drain_timeout == 2.5


class Recorded:
    """Stands in for the server daphne's command line builds through `server_class`."""

    built: dict = {}
    abort_start = False

    def __init__(self, **kwargs) -> None:
        Recorded.built = kwargs

    def run(self) -> None:
        Recorded.built["ran"] = True


class RecordingCommandLine(GracefulCommandLineInterface):
    server_class = Recorded


@pytest.mark.parametrize(
    ("options", "connect_timeout", "admit_deadline"),
    [
        ([], DAPHNE_CONNECT_TIMEOUT_S, "4.5"),
        (["--websocket_connect_timeout", "10"], 10, "9.5"),
        (["--websocket_connect_timeout", "-1"], -1, None),
    ],
)
def test_the_command_line_builds_the_server_with_daphne_options(monkeypatch, options, connect_timeout, admit_deadline):
    monkeypatch.delenv("CASEBOARD_ADMIT_DEADLINE_S", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))  # daphne's run() puts "." in front
    RecordingCommandLine().run(["--drain-timeout", "3", "-v", "0", *options, "-p", "0", APP])
    built = Recorded.built
    assert built.get("ran"), f"{DAPHNE}'s command line no longer builds and runs its server through `server_class`"
    assert built["drain_timeout"] == 3.0
    assert built["websocket_connect_timeout"] == connect_timeout, (
        f"{DAPHNE}'s default --websocket_connect_timeout is no longer {DAPHNE_CONNECT_TIMEOUT_S}: "
        f"update DAPHNE_CONNECT_TIMEOUT_S in caseboard/serve.py (the admission deadline is derived from it)"
    )
    # daphne drops an unaccepted handshake after the connect timeout, which is what the deadline is under.
    assert built["websocket_handshake_timeout"] == connect_timeout
    assert os.environ.get("CASEBOARD_ADMIT_DEADLINE_S") == admit_deadline


def test_listening_ports_are_the_reactor_s_listening_readers():
    from twisted.internet import reactor

    port = reactor.listenTCP(0, Factory(), interface="127.0.0.1")
    try:
        assert port in listening_ports()
    finally:
        port.stopListening()
    assert port not in listening_ports()


# ---------------------------------------------------------------- the ASGI middleware


async def test_frame_tracker_counts_frames_received_but_not_taken():
    server_queue: asyncio.Queue = asyncio.Queue()
    taken: list[dict] = []
    go = asyncio.Event()

    async def app(scope, receive, send):
        taken.append(await receive())  # websocket.connect
        await go.wait()
        while (message := await receive())["type"] != "websocket.disconnect":
            taken.append(message)

    tracker = FrameTracker(app)
    task = asyncio.ensure_future(tracker(scope={"type": "websocket"}, receive=server_queue.get, send=None))
    server_queue.put_nowait({"type": "websocket.connect"})
    for text in ("a", "b", "c"):
        server_queue.put_nowait({"type": "websocket.receive", "text": text})
    await asyncio.sleep(0.01)
    assert (tracker.running, tracker.queued) == (1, 3)
    go.set()
    await asyncio.sleep(0.01)
    assert tracker.queued == 0
    server_queue.put_nowait({"type": "websocket.disconnect", "code": 1001})
    await asyncio.wait_for(task, 1)
    assert [m.get("text") for m in taken] == [None, "a", "b", "c"]
    assert (tracker.running, tracker.queued) == (0, 0)


async def test_frame_tracker_forgets_frames_an_ended_application_never_took():
    server_queue: asyncio.Queue = asyncio.Queue()

    async def app(scope, receive, send):
        await receive()
        await asyncio.sleep(0.01)
        raise ValueError("the application ends with frames still queued")

    tracker = FrameTracker(app)
    server_queue.put_nowait({"type": "websocket.connect"})
    server_queue.put_nowait({"type": "websocket.receive", "text": "never taken"})
    with pytest.raises(ValueError):
        await tracker(scope={"type": "websocket"}, receive=server_queue.get, send=None)
    assert (tracker.running, tracker.queued) == (0, 0)


async def test_frame_tracker_hands_a_failing_receive_to_the_application():
    async def receive():
        raise OSError("the server's receive failed")

    async def app(scope, receive, send):
        await receive()

    tracker = FrameTracker(app)
    with pytest.raises(OSError, match="receive failed"):
        await asyncio.wait_for(tracker(scope={"type": "websocket"}, receive=receive, send=None), 1)
    assert (tracker.running, tracker.queued) == (0, 0)


async def test_frame_tracker_passes_http_straight_through():
    seen = {}

    async def app(scope, receive, send):
        seen.update(receive=receive, send=send)

    async def receive():
        return {}

    tracker = FrameTracker(app)
    await tracker(scope={"type": "http"}, receive=receive, send=print)
    assert seen == {"receive": receive, "send": print}
    assert tracker.running == 0


# ---------------------------------------------------------------- for real


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"caseboard.serve did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def test_sigterm_answers_the_queued_frame_then_closes_with_1001(tmp_path):
    """The whole path on the installed libraries: drain (a frame queued behind a slow one is answered),
    stop listening, close with 1001 through daphne's protocol, exit 0."""
    port = free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "caseboard.serve", "--drain-timeout", "5", "-v", "0"]
            + ["-b", "127.0.0.1", "-p", str(port), APP],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(port, process, log)
        with connect(f"ws://127.0.0.1:{port}/ws/echo/", open_timeout=10) as ws:
            ws.send("slow-1")
            ws.send("two")  # waits behind slow-1: received by the server, not yet taken
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            with socket.socket() as probe:
                assert probe.connect_ex(("127.0.0.1", port)) != 0, "still accepting connections while draining"
            replies, closed = [], None
            try:
                while len(replies) < 3:
                    replies.append(ws.recv(timeout=5))
            except (ConnectionClosed, OSError) as exc:
                closed = exc
        assert replies == ["echo:slow-1", "echo:two"], (
            f"the frames received before SIGTERM were not all answered before the close ({closed!r}): "
            f"the drain did not wait for them\n{log.read_text()[-3000:]}"
        )
        code = closed.rcvd.code if isinstance(closed, ConnectionClosed) and closed.rcvd else None
        assert code == CLOSE_GOING_AWAY, (
            f"not closed with 1001 ({closed!r}): see the internals tested above\n{log.read_text()[-3000:]}"
        )
        assert process.wait(timeout=15) == 0, log.read_text()[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
