"""Fixtures of the fault-injection tests: websocket clients with a chosen client IP, and the figures file."""

from __future__ import annotations

import pytest

from tests.reliability import figures


def pytest_sessionfinish(session, exitstatus):
    from django.conf import settings

    figures.dump(
        database=settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        channel_layer=settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
    )


@pytest.fixture
async def ws_from():
    """Like the `ws` fixture, with the client address daphne would put in scope["client"]."""
    from channels.testing import WebsocketCommunicator

    from caseboard.asgi import application
    from polls.live.hub import Hub

    opened = []

    async def open_client(path: str, *, ip: str = "127.0.0.1", session_key: str | None = None):
        headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
        if session_key:
            headers.append((b"cookie", f"sessionid={session_key}".encode()))
        communicator = WebsocketCommunicator(application, path, headers=headers)
        communicator.scope["client"] = (ip, 50000)  # read when the application starts, on first input
        opened.append(communicator)
        connected, detail = await communicator.connect(timeout=5)
        return communicator, connected, detail

    yield open_client
    for communicator in opened:
        try:
            await communicator.disconnect()
        except Exception:
            pass
    hub = Hub.for_running_loop()
    if hub is not None:
        await hub.close()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """A private redis-server, a throwaway database and daphne workers started on demand (see cluster.py)."""
    from tests.reliability.cluster import Cluster

    cluster = Cluster(tmp_path_factory.mktemp("chaos"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
