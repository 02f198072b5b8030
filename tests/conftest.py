"""Shared fixtures: small factories, service probes and the websocket client helpers."""

from __future__ import annotations

import asyncio
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


# One token per test run: two runs at once on one machine share the PostgreSQL server and the Redis
# database, but never a test database, a channel-layer key or a cache key.
RUN_TOKEN = str(os.getpid())


def pytest_configure(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    # Connections opened in database_sync_to_async's worker thread would otherwise outlive the
    # test and keep PostgreSQL from dropping the test database.
    database["CONN_MAX_AGE"] = 0
    if database["ENGINE"].endswith("sqlite3"):
        # A file, not shared-cache memory: threads (timers, database_sync_to_async) then get
        # WAL and the busy timeout like production instead of "database table is locked".
        import tempfile

        test_db = os.path.join(tempfile.gettempdir(), f"caseboard-test-{RUN_TOKEN}.sqlite3")
        database.setdefault("TEST", {})["NAME"] = test_db
    elif database["ENGINE"].endswith("postgresql"):
        database.setdefault("TEST", {})["NAME"] = f"test_{database['NAME']}_{RUN_TOKEN}"
    layer = settings.CHANNEL_LAYERS["default"]
    if "prefix" in layer.get("CONFIG", {}):
        layer["CONFIG"]["prefix"] = f"{layer['CONFIG']['prefix']}-test{RUN_TOKEN}-"
    cache = settings.CACHES["default"]
    if cache["BACKEND"].endswith("RedisCache"):
        cache["KEY_PREFIX"] = f"{cache.get('KEY_PREFIX', '')}-test{RUN_TOKEN}-"


def pytest_sessionfinish(session, exitstatus):
    """Remove this run's Redis keys (channel layer and cache); they carry its token, no other run's."""
    from django.conf import settings

    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return
    import redis

    prefixes = {settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix")}
    prefixes.add(settings.CACHES["default"].get("KEY_PREFIX"))
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        with client:
            for prefix in filter(None, prefixes):
                if f"-test{RUN_TOKEN}-" not in prefix:
                    continue
                keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
                for start in range(0, len(keys), 500):
                    client.delete(*keys[start : start + 500])
    except redis.RedisError:
        pass  # Redis is gone: nothing to tidy (its keys expire on their own)


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [f"caseboard: database={db} channel_layer={layer} require_services={REQUIRE_SERVICES}"]


def _drop_databases_of_finished_runs(cursor, base: str) -> None:
    """Test databases of runs that were killed before dropping theirs (named after a pid no longer alive)."""
    cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"test_{base}_%"])
    for (name,) in cursor.fetchall():
        pid = name.rsplit("_", 1)[-1]
        if name != f"test_{base}_{pid}" or not pid.isdigit() or pid == RUN_TOKEN:
            continue
        try:
            os.kill(int(pid), 0)
            continue  # that run (or whatever has its pid now) is alive: not ours to drop
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and before PostgreSQL's is dropped, the end of sessions
    that async tests left behind.

    asgiref's database thread can outlive a test with its connection open (see the `ws` fixture);
    one such session makes DROP DATABASE fail the whole run at teardown.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            base = connection.settings_dict["TEST"]["NAME"].removeprefix("test_").rsplit("_", 1)[0]
            _drop_databases_of_finished_runs(cursor, base)
    yield
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


@pytest.fixture(autouse=True)
def _english_unless_a_test_asks():
    """Each test starts in English: a request through the test client activates its page's
    language in this thread (LocaleMiddleware, caseboard/i18n.py) and Django leaves it active,
    so lazy messages (polls/errors.py) compared later would render in that language."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _no_channel_layer_reader_left_running():
    """channels_redis allows one event loop at a time to receive: a reader (a hub's) that outlived
    its test would make every later hub's reader raise. Fail the test that left it, not a later one."""
    yield
    from channels.layers import channel_layers

    layer = channel_layers.backends.get("default")
    if getattr(layer, "receive_count", 0):
        layer.receive_count, layer.receive_lock, layer.receive_event_loop = 0, None, None  # the next test starts clean
        pytest.fail("a channel-layer reader outlived this test: stop its hub (see stop_live_runtime)")


async def close_layer_connections() -> None:
    """Close this test loop's Redis connections: one left open is closed by the garbage collector
    later, and its ResourceWarning (an error here) lands in whichever test is running then."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    loop_layers = getattr(layer, "_layers", None)
    if loop_layers is None:  # the in-memory layer holds no connections
        return
    await layer.wait_received()
    # Only this loop's pool: close_pools() would also touch pools of other loops.
    own = loop_layers.pop(asyncio.get_running_loop(), None)
    if own is not None:
        await own.flush()


async def cancel_and_wait(tasks, *, rounds: int = 200) -> None:
    """Cancel tasks and wait until each has ended, cancelling again a task that swallowed it.

    On Python 3.11, asyncio.wait_for returns normally when the cancellation lands in the turn in
    which the awaited thing completes (fixed in 3.12): PollCloser.run (polls/live/timers.py) then
    keeps looping, and hub.close(), which cancels once and gathers, waits forever. A second
    cancel reaches the task at its next await.
    """
    pending = {task for task in tasks if not task.done()}
    for _ in range(rounds):
        if not pending:
            return
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.05)
    raise AssertionError(f"tasks still running after {rounds} cancellations: {pending}")


async def stop_live_runtime(communicators=()) -> None:
    """End everything a test started on its event loop, before the loop closes.

    The sockets first (their consumers leave the hub), then the hub (its channel-layer reader,
    membership watch, poll closer, coalescing and pacing tasks), the vote writer, any other task
    still running on this loop, the loop's Redis connections, and the database thread's connection.
    A task left running would go on using this loop's connections after the test, and the channel
    layer's one reader per process (channels_redis) would refuse the next test's hub.
    """
    from channels.db import database_sync_to_async
    from django.db import connections

    from polls.live.hub import Hub
    from polls.live.votewriter import WRITERS, ParticipantReader
    from tests.live import FRAME_TIMEOUT_S

    for communicator in communicators:
        if communicator.future.done():
            # Its application ended already (closed, or cancelled by the test the way daphne
            # cancels a stuck consumer); disconnecting would re-raise its CancelledError here and
            # leave every later step of this teardown undone.
            continue
        try:
            await communicator.disconnect(timeout=FRAME_TIMEOUT_S)
        except Exception:
            pass  # refused or closed by the server already
    loop = asyncio.get_running_loop()
    hub = Hub.for_running_loop()
    if hub is not None:
        await cancel_and_wait(
            [*hub._tasks, *hub.coalescer.tasks(), *hub.questions_coalescer.tasks(), *hub._audience_pacers.values()]
        )
        await hub.close()  # leaves its groups; its tasks have ended
    for writer in (*WRITERS.values(), ParticipantReader):
        writer._by_loop.pop(loop, None)
    await cancel_and_wait([task for task in asyncio.all_tasks(loop) if task is not asyncio.current_task()])
    await close_layer_connections()
    # The database thread's connection, closed from inside a call on that thread: seen from
    # channels' own close_old_connections (outside asgiref's per-call context) it can look closed
    # already, and an open one keeps PostgreSQL from dropping the test database.
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
async def ws():
    """Open websocket clients through the real ASGI application: `await ws(path, session_key=..., ip=...)`
    returns (communicator, connected, subprotocol or close code). Everything the test started on its
    event loop is stopped afterwards (see stop_live_runtime)."""
    from tests.live import CONNECT_TIMEOUT_S, communicator_for

    opened = []

    async def open_client(
        path: str, *, session_key: str | None = None, origin: str = "http://testserver", ip: str = "127.0.0.1"
    ):
        communicator = communicator_for(path, session_key=session_key, origin=origin, ip=ip)
        opened.append(communicator)  # before connecting: a handshake that fails is still cleaned up
        connected, subprotocol_or_code = await communicator.connect(timeout=CONNECT_TIMEOUT_S)
        return communicator, connected, subprotocol_or_code

    yield open_client
    await stop_live_runtime(opened)
