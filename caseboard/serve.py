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
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time

from daphne.cli import CommandLineInterface
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import reactor

from caseboard.logfilters import access_log
from caseboard.timeouts import limit_idle_http, request_timeouts

logger = logging.getLogger("caseboard.serve")

CLOSE_GOING_AWAY = 1001
DEFAULT_DRAIN_TIMEOUT_S = 8.0
CLOSE_HANDSHAKE_TIMEOUT_S = 3.0
POLL_S = 0.02


class GracefulServer(Server):
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT_S

    def __init__(self, *args, **kwargs) -> None:
        kwargs["signal_handlers"] = False  # ours, installed on the running loop below
        kwargs["action_logger"] = access_log(kwargs.get("action_logger"))  # redacted (caseboard/logfilters.py)
        super().__init__(*args, **kwargs)
        self.ports: list = []
        self.stopping = False

    def listen_success(self, port) -> None:
        self.ports.append(port)
        super().listen_success(port)

    def run(self) -> None:
        reactor.callWhenRunning(self._install_signal_handlers)
        super().run()

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_event_loop()
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

    def _websockets(self) -> list[WebSocketProtocol]:
        return [p for p in self.connections if isinstance(p, WebSocketProtocol)]

    def _busy(self) -> int:
        """Frames being handled plus frames received but not yet taken off their socket's queue."""
        from polls.live.consumers import IN_FLIGHT

        queued = 0
        for protocol in self.connections:
            queue = getattr(protocol, "application_queue", None)
            if queue is not None:
                queued += queue.qsize()
        return IN_FLIGHT.count + queued

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
        for port in self.ports:
            port.stopListening()
        # Three quiet checks in a row: a frame taken off a socket's queue is counted as in flight
        # only once the consumer dispatches it, a loop turn later.
        drained = await self._wait(lambda: self._busy() == 0, self.drain_timeout, settle=3)
        if not drained:
            logger.warning("drain timeout: %d frames still busy; closing anyway", self._busy())
        sockets = self._websockets()
        for protocol in sockets:
            if protocol.state == WebSocketProtocol.STATE_OPEN:
                # serverClose() only allows 1000 and 3000-4999; 1001 (going away) is the right code here.
                protocol.sendCloseFrame(code=CLOSE_GOING_AWAY, isReply=False)

        def instances_done() -> bool:
            return all(
                details.get("application_instance") is None or details["application_instance"].done()
                for protocol, details in list(self.connections.items())
                if isinstance(protocol, WebSocketProtocol)
            )

        await self._wait(instances_done, CLOSE_HANDSHAKE_TIMEOUT_S)
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
        GracefulServer.drain_timeout = ours.drain_timeout
        # daphne drops a handshake the application has not accepted within its connect timeout;
        # admission work for it after that is wasted, so stop admitting half a second before.
        daphne_options = argparse.ArgumentParser(add_help=False)
        daphne_options.add_argument("--websocket_connect_timeout", type=int, default=5)
        timeout = daphne_options.parse_known_args(rest)[0].websocket_connect_timeout
        if timeout > 0:
            os.environ.setdefault("CASEBOARD_ADMIT_DEADLINE_S", str(max(0.5, timeout - 0.5)))
        # Request timeouts (caseboard/timeouts.py): idle HTTP connections, daphne's --http-timeout.
        idle_timeout, rest = request_timeouts(rest)
        reactor.callWhenRunning(limit_idle_http, self, idle_timeout)
        super().run(rest)


def main() -> None:
    GracefulCommandLineInterface().run(sys.argv[1:])


if __name__ == "__main__":
    main()
