"""Serve Caseboard with daphne, and shut down gracefully on SIGTERM or Ctrl-C.

    python -m caseboard.serve [--drain-timeout 8] [any daphne option] caseboard.asgi:application

Plain daphne, on SIGTERM, cancels every application task at once: votes being written get no
`ack` and sockets drop with 1006, so phones cannot tell what happened. Here a first signal:

1. stops accepting connections (the listening sockets close; a load balancer moves on),
2. lets the commands already running and the frames already received finish, so every vote the
   server took in gets its `ack` or `error` (at most `--drain-timeout` seconds),
3. closes each websocket with 1001 (going away), which runs the consumers' disconnect handlers;
   phones reconnect to another worker and resynchronise from `state`,
4. leaves the channel-layer groups and stops the reactor.

A second signal stops at once. `daphne caseboard.asgi:application` keeps working unchanged.

What this leans on. Public: daphne's command line and `Server` constructor arguments
(`signal_handlers=False`, `websocket_connect_timeout`), `Server.run`/`stop`, the ASGI interface
(frames and running applications are counted by the `FrameTracker` middleware), Twisted's reactor
interfaces (`callLater`, `getReaders`, `IListeningPort.stopListening`) and asyncio's
`add_signal_handler`. Internal, because nothing public does the job: daphne's `Server.connections`
(the only way to reach its websocket protocols) and autobahn's `sendCloseFrame` with the protocol
`state` (the only way to send 1001). tests/caseboard/test_serve.py fails, naming the library, if
an installed version changes any of them.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import signal
import sys
import time

from autobahn.twisted.websocket import WebSocketServerProtocol  # imports no reactor

# daphne.server (through daphne.cli) installs Twisted's asyncio reactor: it must be imported before
# twisted.internet.reactor, which the sorted order keeps.
from daphne.cli import CommandLineInterface
from daphne.server import Server
from twisted.internet import reactor
from twisted.internet.interfaces import IListeningPort

from caseboard.logfilters import access_log
from caseboard.timeouts import limit_idle_http, request_timeouts

logger = logging.getLogger("caseboard.serve")

CLOSE_GOING_AWAY = 1001
DEFAULT_DRAIN_TIMEOUT_S = 8.0
CLOSE_HANDSHAKE_TIMEOUT_S = 3.0
POLL_S = 0.02
# daphne's default for --websocket_connect_timeout (tests/caseboard/test_serve.py checks it still is).
DAPHNE_CONNECT_TIMEOUT_S = 5


class FrameTracker:
    """ASGI middleware: what a drain waits for, seen through the ASGI interface alone.

    The server hands each websocket frame to the application through `receive`. Frames it has
    received that the application has not taken yet would be invisible here, so each socket gets a
    pump that takes them as they arrive and holds them until the application asks: `queued` counts
    the frames held. `running` counts websocket application instances that have not finished.
    HTTP (and anything else) passes straight through.
    """

    def __init__(self, application) -> None:
        self.application = application
        self.queued = 0
        self.running = 0

    async def __call__(self, scope, receive, send):  # daphne passes these three by keyword
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
        return await _TrackedSocket(self, receive).run(scope, send)


class _TrackedSocket:
    """One socket's pump. Lean on purpose (a list and bare futures, not an asyncio.Queue): one of
    these lives beside every connected phone."""

    __slots__ = ("tracker", "receive", "inbox", "waiters", "held", "failure")

    def __init__(self, tracker: FrameTracker, receive) -> None:
        self.tracker = tracker
        self.receive = receive
        self.inbox: list[dict] = []
        self.waiters: list[asyncio.Future] = []
        self.held = 0  # this socket's share of tracker.queued
        self.failure: BaseException | None = None

    def wake(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.waiters.clear()

    async def pump(self) -> None:
        try:
            while True:
                message = await self.receive()
                if message["type"] == "websocket.receive":
                    self.held += 1
                    self.tracker.queued += 1
                self.inbox.append(message)
                self.wake()
                if message["type"] == "websocket.disconnect":
                    return
        except Exception as exc:  # hand it to the application's next receive()
            self.failure = exc
            self.wake()

    async def take(self) -> dict:
        while not self.inbox:
            if self.failure is not None:
                raise self.failure
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            await waiter
        message = self.inbox.pop(0)
        if message["type"] == "websocket.receive":
            self.held -= 1
            self.tracker.queued -= 1
        return message

    async def run(self, scope, send):
        tracker = self.tracker
        tracker.running += 1
        pumping = asyncio.ensure_future(self.pump())
        try:
            return await tracker.application(scope, self.take, send)
        finally:
            pumping.cancel()
            tracker.queued -= self.held  # frames an application that ended never took
            tracker.running -= 1


def listening_ports() -> list:
    """The reactor's listening ports: Twisted's public IReactorFDSet.getReaders() lists every
    descriptor the reactor waits on, and a listening port is one (it waits to accept). This process
    runs the reactor for daphne alone, so these are exactly daphne's endpoints."""
    return [reader for reader in reactor.getReaders() if IListeningPort.providedBy(reader)]


class GracefulServer(Server):
    def __init__(self, application, *args, drain_timeout: float = DEFAULT_DRAIN_TIMEOUT_S, **kwargs) -> None:
        self.frames = FrameTracker(application)
        kwargs["signal_handlers"] = False  # ours, installed on the reactor's asyncio loop below
        kwargs["action_logger"] = access_log(kwargs.get("action_logger"))  # redacted (caseboard/logfilters.py)
        super().__init__(self.frames, *args, **kwargs)
        self.drain_timeout = drain_timeout
        self.stopping = False

    def run(self) -> None:
        # callLater runs on the reactor's asyncio loop once it runs (callWhenRunning would run
        # before the loop starts), so the running loop is the one to take the signals.
        reactor.callLater(0, self._install_signal_handlers)
        super().run()

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)

    def _on_signal(self, signum: int) -> None:
        if self.stopping:
            logger.warning("second %s: stopping now", signal.Signals(signum).name)
            self.stop()
            return
        self.stopping = True
        asyncio.ensure_future(self.shutdown(signal.Signals(signum).name))

    # ------------------------------------------------------------- shutdown

    def _websockets(self) -> list[WebSocketServerProtocol]:
        # INTERNAL (daphne): Server.connections, filled by its protocols and created in run(), is
        # the only place daphne keeps its live protocol objects; closing a socket with 1001 needs
        # the protocol itself (ASGI's websocket.close cannot send 1001, see _drain_and_close).
        # Checked by tests/caseboard/test_serve.py.
        return [p for p in list(self.connections) if isinstance(p, WebSocketServerProtocol)]

    def _busy(self) -> int:
        """Frames being handled plus frames received but not yet taken off their socket's queue."""
        from polls.live.consumers import IN_FLIGHT

        return IN_FLIGHT.count + self.frames.queued

    async def _wait(self, done, seconds: float, settle: int = 1) -> bool:
        """Poll until `done()` holds on `settle` consecutive checks; False after `seconds`."""
        deadline = time.monotonic() + seconds
        streak = 0
        while True:
            streak = streak + 1 if done() else 0
            if streak >= settle:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(POLL_S)

    async def shutdown(self, reason: str) -> None:
        try:
            await self._drain_and_close(reason)
        except Exception:
            logger.exception("graceful shutdown failed; stopping now")
        finally:
            self.stop()

    async def _drain_and_close(self, reason: str) -> None:
        from polls.live.consumers import IN_FLIGHT
        from polls.live.hub import Hub

        started = time.monotonic()
        logger.warning(
            "%s: draining (%d sockets, %d frames in flight)", reason, len(self._websockets()), IN_FLIGHT.count
        )
        for port in listening_ports():
            port.stopListening()
        # Three quiet checks in a row: a frame taken off a socket's queue is counted as in flight
        # only once the consumer dispatches it, a loop turn later.
        drained = await self._wait(lambda: self._busy() == 0, self.drain_timeout, settle=3)
        if not drained:
            logger.warning("drain timeout: %d frames still busy; closing anyway", self._busy())
        sockets = self._websockets()
        for protocol in sockets:
            # INTERNAL (autobahn): the protocol's `state` and sendCloseFrame(). The public ways to
            # close, ASGI's websocket.close through daphne and autobahn's sendClose(), only allow
            # 1000 and 3000-4999; 1001 (going away) is the code the protocol documents for this.
            # Only an open socket can take a close frame (one still connecting raises).
            # Checked by tests/caseboard/test_serve.py.
            if protocol.state == WebSocketServerProtocol.STATE_OPEN:
                protocol.sendCloseFrame(code=CLOSE_GOING_AWAY, isReply=False)
        await self._wait(lambda: self.frames.running == 0, CLOSE_HANDSHAKE_TIMEOUT_S)
        hub = Hub.for_running_loop()
        if hub is not None:
            try:
                await asyncio.wait_for(hub.close(), CLOSE_HANDSHAKE_TIMEOUT_S)
            except Exception:
                logger.warning("hub close failed during shutdown", exc_info=True)
        logger.warning(
            "stopped after %.2fs: %d frames handled, %d sockets closed with %d",
            time.monotonic() - started,
            IN_FLIGHT.completed,
            len(sockets),
            CLOSE_GOING_AWAY,
        )


def admission_deadline(connect_timeout: float) -> float | None:
    """daphne drops a handshake the application has not accepted within its connect timeout;
    admission work for it after that is wasted, so stop admitting half a second before."""
    return max(0.5, connect_timeout - 0.5) if connect_timeout > 0 else None


class GracefulCommandLineInterface(CommandLineInterface):
    server_class = GracefulServer

    def run(self, args: list[str]) -> None:
        extra = argparse.ArgumentParser(add_help=False)
        extra.add_argument(
            "--drain-timeout",
            type=float,
            default=DEFAULT_DRAIN_TIMEOUT_S,
            help="seconds to let running commands finish after SIGTERM before closing sockets",
        )
        ours, rest = extra.parse_known_args(args)
        # The settings read CASEBOARD_ADMIT_DEADLINE_S when daphne imports the application, before
        # the server is built, so it is set from daphne's (public) command-line option, here.
        daphne_options = argparse.ArgumentParser(add_help=False)
        daphne_options.add_argument("--websocket_connect_timeout", type=int, default=DAPHNE_CONNECT_TIMEOUT_S)
        deadline = admission_deadline(daphne_options.parse_known_args(rest)[0].websocket_connect_timeout)
        if deadline is not None:
            os.environ.setdefault("CASEBOARD_ADMIT_DEADLINE_S", str(deadline))
        # Request timeouts (caseboard/timeouts.py): idle HTTP connections, daphne's --http-timeout.
        idle_timeout, rest = request_timeouts(rest)
        reactor.callWhenRunning(limit_idle_http, self, idle_timeout)
        self.server_class = functools.partial(self.server_class, drain_timeout=ours.drain_timeout)
        super().run(rest)


def main() -> None:
    GracefulCommandLineInterface().run(sys.argv[1:])


if __name__ == "__main__":
    main()
