"""A request declaring a body past one case image is refused on its header, through the real ASGI
application, before Django reads any of it (caseboard/bodylimit.py); smaller ones go through."""

import asyncio

import pytest

from caseboard.asgi import application
from caseboard.bodylimit import MAX_REQUEST_BYTES
from cases.images import MAX_UPLOAD_BYTES

pytestmark = [pytest.mark.django_db(transaction=True)]


async def call(path: str, method: str, length: int | None):
    read = []
    sent = []

    async def receive():
        read.append(True)
        if len(read) > 1:  # Django listens for a disconnect until it has answered
            await asyncio.Event().wait()
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    headers = [(b"host", b"testserver")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}  # fmt: skip
    await application(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body.decode(errors="replace"), bool(read)


async def test_a_50_mb_upload_is_refused_in_words_before_its_body_is_read():
    status, text, read = await call("/author/cases/new/", "POST", 50 * 2**20)
    assert status == 413 and "larger than 10 MB, the limit for a case image" in text
    assert not read  # nothing of the body was taken in


async def test_a_body_of_one_image_and_the_page_goes_through():
    assert MAX_REQUEST_BYTES > MAX_UPLOAD_BYTES
    status, _, read = await call("/author/cases/new/", "POST", MAX_REQUEST_BYTES)
    assert status != 413 and read  # Django had it (a login redirect here: no session)
    status, _, _ = await call("/healthz", "GET", None)
    assert status in (200, 503)
