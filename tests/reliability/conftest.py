"""Fixtures of the fault-injection tests: the servers of the multi-process tests, and the figures file.

In-process websocket clients (with a chosen client IP too) come from the `ws` fixture in tests/conftest.py.
"""

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
async def close_clients():
    """Drop every scripted client (tests/reliability/phones.py) the test left connected, on the
    test's own loop: otherwise the garbage collector closes them in some later test, and the
    ResourceWarning (an error here) fails that one."""
    from tests.reliability import phones

    yield
    for client in list(phones.OPEN):
        client.drop()


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
