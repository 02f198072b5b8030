"""An HTTP request whose Content-Length is past what any page takes is refused before its body is
read (issue 16: "a 50 MB image").

Django's ASGI handler reads a request's whole body (to memory, then a temporary file) before any
view or upload handler runs; cases/uploads.py only limits what the form then keeps. So the size
is checked here first, on the header, with the same limit and words as nginx's authoring location
(deploy/nginx.conf.template): one case image and the page's other fields. Up to it, an image past
its own limit reaches the form and is refused there, with what was typed kept.
"""

from __future__ import annotations

from cases.images import MAX_UPLOAD_BYTES

MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 2**20  # nginx: client_max_body_size 11m on /author/ and /admin/
TOO_LARGE = (
    f"The upload is larger than {MAX_UPLOAD_BYTES // 2**20} MB, the limit for a case image. Go back, export the "
    "image smaller (a slide-sized PNG or JPEG is plenty) and save again.\n"
).encode()


class RequestBodyLimit:
    """ASGI middleware: 413 with a plain sentence for an HTTP request declaring too large a body."""

    def __init__(self, app, limit: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self._declared(scope) > self.limit:
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(TOO_LARGE)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": TOO_LARGE})
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _declared(scope) -> int:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0  # Django answers a malformed header itself
        return 0
