"""Finding 16 (issue 11): logs held client IP:port, typed join codes and the presenter key, and
exports were not audited. Attacked through the ASGI application and through daphne as
`python -m caseboard.serve` runs it (the launcher of make run and make cluster)."""

from __future__ import annotations

import io
import logging
import re
import urllib.parse

import pytest
from channels.db import database_sync_to_async
from websockets.exceptions import InvalidStatus

from polls.models import ModeratorAction
from tests.daphne import serve_demo
from tests.factories import make_case, make_event, make_moderator
from tests.security.asgi import Browser
from tests.security.conftest import Client, run_django
from tests.security.test_login_throttle import PASSWORD, log_in

asgi = pytest.mark.django_db(transaction=True)


@asgi
async def test_an_export_is_audited_like_every_moderator_action(asgi_sockets):
    @database_sync_to_async
    def world():
        moderator, outsider = make_moderator(), make_moderator()
        return make_event(cases=[make_case()], moderators=[moderator]), moderator, outsider

    event, moderator, outsider = await world()
    organiser = Browser("198.51.100.70")
    assert await log_in(organiser, moderator.username, PASSWORD) == 302
    status, body = await organiser.get(f"/e/{event.code}/export.csv")
    assert status == 200 and body
    stranger = Browser("198.51.100.71")
    assert await log_in(stranger, outsider.username, PASSWORD) == 302
    assert (await stranger.get(f"/e/{event.code}/export.csv"))[0] == 403

    entries = await database_sync_to_async(
        lambda: list(ModeratorAction.objects.filter(event=event, action="export").values_list("user_id", flat=True))
    )()
    assert entries == [moderator.id]


@pytest.fixture
def log_output():
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(f.__class__.__name__ == "RedactRequestDetails" for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_request_lines_of_the_development_server_are_redacted(log_output):
    """`manage.py runserver` (daphne's) logs each request through `django.channels.server`."""
    server = logging.getLogger("django.channels.server")
    line = "HTTP %(method)s %(path)s %(status)s [%(time_taken).2f, %(client)s]"
    server.warning(
        line,
        {"method": "GET", "path": "/?code=TYPED1", "status": 404, "time_taken": 0.01, "client": "203.0.113.9:50123"},
    )
    server.warning(
        line, {"method": "GET", "path": "/e/GUESS7/", "status": 404, "time_taken": 0.01, "client": "203.0.113.9:50124"}
    )
    server.warning("WebSocket REJECT %(path)s [%(client)s]", {"path": "/ws/e/GUESS8/", "client": "[2001:db8::5]:443"})
    logging.getLogger("caseboard").warning("opened /e/CASE2/present/?key=SECRETKEY&x=1")
    output = log_output.getvalue()
    for secret in ("TYPED1", "GUESS7", "GUESS8", "SECRETKEY", "50123", "203.0.113.9", "2001:db8::5"):
        assert secret not in output, (secret, output)
    assert "203.0.113.0/24" in output and "2001:db8::/48" in output and "?key=[redacted]&x=1" in output


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    server = serve_demo(tmp_path_factory.mktemp("caseboard-logs"), launcher=("-m", "caseboard.serve"), LOG_LEVEL="INFO")
    try:
        yield server
    finally:
        server.stop()


def test_through_caseboard_serve_the_logs_keep_no_key_no_typed_code_no_client_port(logged):
    key = run_django(logged, "from polls.models import Event; print(Event.objects.get(code='CASE2').presenter_token)")
    key = key.strip().splitlines()[-1]
    projector = Client(logged)
    assert projector.get(f"/e/CASE2/present/?key={urllib.parse.quote(key)}")[0] == 302
    phone = Client(logged)
    assert phone.get("/?code=TYPD2345")[0] == 404
    assert phone.get("/e/GSS23456/")[0] == 404
    with pytest.raises(InvalidStatus):
        phone.ws("/ws/e/GSW23456/").close()
    moderator = Client(logged).login()
    assert moderator.get("/e/CASE2/export.csv")[0] == 200
    assert "export" in run_django(
        logged, "from polls.models import ModeratorAction as A; print(list(A.objects.values_list('action', flat=True)))"
    )

    log = (logged.workdir / "daphne-1.log").read_text()
    assert "GET /e/CASE2/present/?key=[redacted] 302" in log  # operations still see the request
    assert "GET /e/[code]/ 404" in log and "GET /?code=[redacted] 404" in log
    for secret in (key, "TYPD2345", "GSS23456", "GSW23456"):
        assert secret not in log, secret
    client_ports = [p for p in re.findall(r"127\.0\.0\.1:(\d+)", log) if int(p) != logged.port]
    assert client_ports == [], client_ports
    assert "127.0.0.0/24" in log
