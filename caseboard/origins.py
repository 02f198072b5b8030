"""Websocket origin check: the whole origin (scheme, host and port) must be the site's own.

Channels' AllowedHostsOriginValidator compares host names only, so a page on
http://localhost:1234 could open a moderator's socket with the moderator's cookies. Here, as in
Django's own CSRF origin check, the Origin header must equal the origin the browser addressed
(the Host header under the connection's scheme, `wss` being `https`; behind a trusted proxy the
scheme it reports through SECURE_PROXY_SSL_HEADER), or be listed in CSRF_TRUSTED_ORIGINS.
"""

from __future__ import annotations

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _scheme(scope) -> str:
    if scope.get("scheme") == "wss":
        return "https"
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        header, secure_value = proxy
        name = header.removeprefix("HTTP_").lower().replace("_", "-").encode()
        if _header(scope, name) == secure_value:
            return "https"
    return "http"


def origin_allowed(scope) -> bool:
    origin, host = _header(scope, b"origin"), _header(scope, b"host")
    if not origin or not host:
        return False
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return origin == f"{_scheme(scope)}://{host}" or origin in settings.CSRF_TRUSTED_ORIGINS


class SameOriginValidator:
    """ASGI middleware: a websocket whose Origin is not the site's own is refused at the handshake."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
