"""Keep case text, participant input, presenter keys and typed codes out of the logs.

Exception messages can quote what a phone sent (a ref in a constraint violation, text in a
decode error). Logged tracebacks keep their frames and the exception's type, never its message.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import traceback


class RedactExceptionText(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, tb = record.exc_info
            frames = "".join(traceback.format_tb(tb)) if tb else ""
            record.exc_text = f"Traceback (most recent call last):\n{frames}{kind.__name__}: (message withheld)"
            record.exc_info = None
        return True


# ------------------------------------------------------------------ request details
#
# What operations need from a request line: method, path, status, time, and roughly where it came
# from. Not the presenter key (`?key=` is the projector's credential), not the codes participants
# type (`?code=`, and the code in a path that did not lead to an event), not the client's port.
# The full address of a client that trips a limit is logged apart, at WARNING (polls/joins.py).

_SECRET_QUERY = re.compile(r"(?i)([?&](?:key|code)=)[^&#\s\"']*")
_EVENT_PATH = re.compile(r"(/(?:ws/)?e/)[^/?#\s\"']+")


def redact_url(url: str, *, failed: bool = False) -> str:
    """`?key=` and `?code=` values withheld; on a failed request also the code in the path."""
    url = _SECRET_QUERY.sub(r"\1[redacted]", url)
    return _EVENT_PATH.sub(r"\1[code]", url) if failed else url


def client_network(client: str | None) -> str:
    """'203.0.113.7:51234' -> '203.0.113.0/24' (IPv6: the /48): where from, not who."""
    if not client:
        return "-"
    host = client
    if host.startswith("["):
        host = host[1 : host.find("]")]
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "-"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def redact_details(details: dict, *, failed: bool) -> dict:
    redacted = dict(details)
    if "path" in redacted:
        redacted["path"] = redact_url(str(redacted["path"]), failed=failed)
    if "client" in redacted:
        redacted["client"] = client_network(redacted["client"])
    return redacted


def _failed(details: dict, action: str = "") -> bool:
    # A refused socket is logged as rejected and then as disconnected, which alone cannot tell:
    # a disconnect names no event (its connect line did, if it was admitted).
    status = details.get("status")
    return action in ("rejected", "disconnected") or (isinstance(status, int) and status >= 400)


class RedactRequestDetails(logging.Filter):
    """On every record: presenter keys and typed codes out of the message. On access records (the
    runserver's `django.channels.server`, whose argument is daphne's details dict): the client as
    its network, without the port."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and "path" in record.args:
            failed = _failed(record.args) or any(word in str(record.msg) for word in ("REJECT", "DISCONNECT"))
            record.args = redact_details(record.args, failed=failed)
        elif record.name.startswith("django.security") and record.args:
            record.args = tuple(redact_url(a, failed=True) if isinstance(a, str) else a for a in record.args)
        message = record.getMessage()
        if "key=" in message or "code=" in message:
            record.msg, record.args = _SECRET_QUERY.sub(r"\1[redacted]", message), None
        return True


ACCESS_LOGGER = logging.getLogger("caseboard.access")


class AccessLog:
    """daphne's access log (its `action_logger`) through Python logging, redacted.

    Plain daphne writes each request line, query string and client port included, straight to
    stdout. `python -m caseboard.serve` hands daphne this instead: the lines go to the
    `caseboard.access` logger at INFO (LOGGING decides where and whether), redacted as above.
    """

    def __call__(self, protocol: str, action: str, details: dict) -> None:
        if not ACCESS_LOGGER.isEnabledFor(logging.INFO):
            return
        shown = redact_details(details, failed=_failed(details, action))
        if protocol == "http" and action == "complete":
            ACCESS_LOGGER.info(
                "%s %s %s %s %.3fs",
                shown.get("client"),
                shown.get("method"),
                shown.get("path"),
                shown.get("status"),
                shown.get("time_taken") or 0,
            )
        elif protocol == "websocket" and action in ("connected", "rejected", "disconnected"):
            ACCESS_LOGGER.info("%s WS%s %s", shown.get("client"), action.upper(), shown.get("path"))


def access_log(action_logger):
    """What caseboard.serve gives daphne as its action logger: ours wherever daphne would log."""
    return AccessLog() if action_logger is not None else None
