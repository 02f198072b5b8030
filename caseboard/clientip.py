"""The client's address: the peer's, or behind a trusted proxy the one that proxy reports.

One rule for HTTP views, websockets and the login throttle (django-axes). `X-Forwarded-For` is
read only when the peer is a trusted proxy (`CASEBOARD_TRUSTED_PROXIES`: addresses or CIDR
networks), from the right: each trusted proxy appends the address it saw, so the rightmost entry
that is not a trusted proxy is the client. Entries left of it are whatever the client sent and
are never read; with no trusted proxy configured the header is ignored altogether.

`TrustedProxyMiddleware` applies the rule once per connection to the ASGI scope's `client`, so
Django's `REMOTE_ADDR` and the consumers' `scope["client"]` already hold the client's address.
(daphne's own `--proxy-headers` takes the header's leftmost entry, which a client chooses: do not
use it; uvicorn's `--forwarded-allow-ips` reads from the right like this module.)
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def trusted_networks() -> tuple[Network, ...]:
    return _networks(tuple(settings.CASEBOARD.get("TRUSTED_PROXIES", ())))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def is_trusted(address: str, networks: tuple[Network, ...] | None = None) -> bool:
    networks = trusted_networks() if networks is None else networks
    parsed = _address(address) if networks else None
    return parsed is not None and any(parsed in network for network in networks)


def resolve(peer: str, forwarded_for: list[str] | tuple[str, ...] = ()) -> str:
    """The client's address, given the connection's peer and the `X-Forwarded-For` header values."""
    networks = trusted_networks()
    if not networks or not is_trusted(peer, networks):
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # Trusted proxies write addresses; anything else came from beyond them. Stop at the
            # last address a trusted proxy vouched for.
            return client
        client = str(address)
        if not any(address in network for network in networks):
            return client
    return client  # every hop is a trusted proxy: the leftmost is as far as the chain goes


def request_client_ip(request) -> str:
    """The client address of a Django request (idempotent after TrustedProxyMiddleware).

    Also django-axes' `AXES_CLIENT_IP_CALLABLE`, so the login throttle keys on the same address.
    """
    peer = request.META.get("REMOTE_ADDR") or "unknown"
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    return resolve(peer, [forwarded] if forwarded else [])


def login_client_ip(request) -> str | None:
    """django-axes' `AXES_CLIENT_IP_CALLABLE`: the same address, or None where a request has none
    (an in-process test client): axes stores it in an IP-address column, which PostgreSQL checks."""
    address = request_client_ip(request)
    return None if _address(address) is None else address


def scope_client_ip(scope) -> str:
    client = scope.get("client") or ("unknown", 0)
    return str(client[0])


class TrustedProxyMiddleware:
    """ASGI middleware: `scope["client"]` becomes the client's address by the rule above."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope.get("type") in ("http", "websocket") and trusted_networks():
            client = scope.get("client")
            if client and is_trusted(str(client[0])):
                forwarded = [
                    value.decode("latin-1") for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"
                ]
                address = resolve(str(client[0]), forwarded)
                if address != str(client[0]):
                    scope = dict(scope, client=(address, 0), caseboard_peer=tuple(client))
        return await self.application(scope, receive, send)
