"""Request timeouts for daphne as `python -m caseboard.serve` runs it (docs/deploy.md).

Plain daphne has no deadline on a request it is still receiving: Twisted closes an HTTP connection
only after 60 s without a byte (measured), and `--http-timeout` (how long the
application may take to answer) is off. The review held 1,500 half-sent requests open for 90 s.
Here, unless given on the command line:

- `--http-idle-timeout` (ours, 20 s): an HTTP connection that sends nothing for this long is
  closed, half-sent request or idle keep-alive alike. Sockets upgraded to websockets are not
  affected (their liveness is daphne's ping: `--ping-interval`, `--ping-timeout`).
- `--http-timeout` (daphne's, 30 s): an application that has not answered by then gets a 503.
- `--websocket_connect_timeout` (daphne's, 5 s): a handshake not accepted by then is dropped.

A client that trickles a byte every few seconds is not stopped by an idle timeout; that, and
connections per address, is what nginx's `client_header_timeout`, `client_body_timeout` and
`limit_conn` in front are for (deploy/nginx.conf.template).
"""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger("caseboard.serve")

DEFAULT_HTTP_IDLE_TIMEOUT_S = 20.0
DEFAULT_HTTP_TIMEOUT_S = 30


def request_timeouts(args: list[str]) -> tuple[float, list[str]]:
    """(the HTTP idle timeout, daphne's arguments with `--http-timeout` defaulted)."""
    ours = argparse.ArgumentParser(add_help=False)
    ours.add_argument("--http-idle-timeout", type=float, default=DEFAULT_HTTP_IDLE_TIMEOUT_S)
    parsed, rest = ours.parse_known_args(args)
    if not any(arg == "--http-timeout" or arg.startswith("--http-timeout=") for arg in rest):
        rest = ["--http-timeout", str(DEFAULT_HTTP_TIMEOUT_S), *rest]
    return parsed.http_idle_timeout, rest


def limit_idle_http(cli, seconds: float) -> None:
    """Once the reactor runs: connections accepted from now on close after `seconds` without a byte.

    daphne builds its HTTP factory (a Twisted `HTTPFactory`, whose public `timeOut` each new
    connection copies) in `Server.run`, before the reactor starts; there is no option for it.
    """
    factory = getattr(getattr(cli, "server", None), "http_factory", None)
    if factory is None or seconds <= 0:
        logger.warning("HTTP idle timeout not set: daphne's HTTP factory not found")
        return
    factory.timeOut = seconds
