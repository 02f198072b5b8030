"""Shared fixtures: small factories, service probes and the websocket client helpers."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

REQUIRE_SERVICES = os.environ.get("CASEBOARD_REQUIRE_SERVICES") == "1"


def service_reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def pytest_configure(config):
    from django.conf import settings

    # Connections opened in database_sync_to_async's worker thread would otherwise outlive the
    # test and keep PostgreSQL from dropping the test database.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        # A file, not shared-cache memory: threads (timers, database_sync_to_async) then get
        # WAL and the busy timeout like production instead of "database table is locked".
        import tempfile

        test_db = os.path.join(tempfile.gettempdir(), f"caseboard-test-{os.getpid()}.sqlite3")
        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = test_db


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [f"caseboard: database={db} channel_layer={layer} require_services={REQUIRE_SERVICES}"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and before PostgreSQL's is dropped, the end of sessions
    that async tests left behind.

    asgiref's database thread can outlive a test with its connection open (see the `ws` fixture);
    one such session makes DROP DATABASE fail the whole run at teardown.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


async def close_layer_connections() -> None:
    """Close this test loop's Redis connections: one left open is closed by the garbage collector
    later, and its ResourceWarning (an error here) lands in whichever test is running then."""
    from channels.layers import get_channel_layer

    close_pools = getattr(get_channel_layer(), "close_pools", None)
    if close_pools is not None:
        await close_pools()


@pytest.fixture
async def ws():
    """Open websocket clients through the real ASGI app; all are closed and the hub stopped after the test."""
    from channels.db import database_sync_to_async
    from django.db import connections

    from polls.live.hub import Hub
    from tests.live import connect

    opened = []

    async def open_client(path: str, *, session_key: str | None = None, origin: str = "http://testserver", **kw):
        communicator, connected, subprotocol_or_code = await connect(path, session_key=session_key, origin=origin)
        opened.append(communicator)
        return communicator, connected, subprotocol_or_code

    yield open_client
    for communicator in opened:
        try:
            await communicator.disconnect()
        except Exception:
            pass
    hub = Hub.for_running_loop()
    if hub is not None:
        await hub.close()
    await close_layer_connections()
    # The database thread's connection, closed from inside a call on that thread: seen from
    # channels' own close_old_connections (outside asgiref's per-call context) it can look closed
    # already, and an open one keeps PostgreSQL from dropping the test database.
    await database_sync_to_async(connections.close_all)()
