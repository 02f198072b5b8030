"""Browser tests: the real app under daphne (own SQLite database), driven by Chromium via sync Playwright.

These tests never touch pytest-django's database: the server process has its own. Chromium is
the Debian build at /usr/bin/chromium (override with CASEBOARD_CHROMIUM); when it is missing the
tests are skipped, unless CASEBOARD_REQUIRE_BROWSER=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import http.cookiejar
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.daphne import Server, serve_demo

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CASEBOARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE_BROWSER = os.environ.get("CASEBOARD_REQUIRE_BROWSER") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (CASEBOARD_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable; checked before anything expensive starts."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_or_fail("playwright is not installed")
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium not found at {CHROMIUM}; set CASEBOARD_CHROMIUM")
    return CHROMIUM


@pytest.fixture(scope="session")
def server(tmp_path_factory, chromium: str) -> Server:
    """Migrate a fresh SQLite database, load the demo and serve the app with daphne on a free port."""
    extra = {}
    if os.environ.get("CASEBOARD_SCREENSHOTS") == "1":
        extra["PUBLIC_BASE_URL"] = "https://caseboard.example.org"  # a tidy join URL and QR code in the images
    srv = serve_demo(tmp_path_factory.mktemp("caseboard-browser"), **extra)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser(chromium: str):
    """Chromium for one test module.

    Module scope on purpose: while sync Playwright runs, its event loop counts as the thread's
    running loop, which breaks later tests that call asyncio.run() or async_to_sync(). Stopping
    it at the end of each browser module hands the thread back clean.
    """
    from playwright.sync_api import Error, sync_playwright

    manager = sync_playwright().start()
    try:
        instance = manager.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    except Error as exc:
        manager.stop()
        skip_or_fail(f"Chromium at {chromium} could not start: {exc.message.splitlines()[0]}")
    try:
        yield instance
    finally:
        instance.close()
        manager.stop()


@pytest.fixture
def demo(server: Server) -> Server:
    """The server with CASE2 reset to its pristine demo state for this test."""
    server.reset_demo()
    return server


@pytest.fixture(scope="session")
def moderator_storage(server: Server) -> dict:
    """Playwright storage state of a logged-in moderator (logged in over plain HTTP, once)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = f"{server.url}/accounts/login/"
    opener.open(login_url, timeout=10).close()  # noqa: S310 (the local test server)
    token = next(c.value for c in jar if c.name == "csrftoken")
    form = {"username": "moderator", "password": server.password, "csrfmiddlewaretoken": token, "next": "/"}
    login = urllib.request.Request(login_url, data=urllib.parse.urlencode(form).encode())  # noqa: S310
    opener.open(login, timeout=10).close()  # noqa: S310 (the local test server)
    cookies = [
        {"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": c.path, "httpOnly": False, "secure": False}
        for c in jar
    ]
    assert any(c["name"] == "sessionid" for c in cookies), "the demo moderator could not log in"
    return {"cookies": cookies, "origins": []}


@pytest.fixture
def contexts(browser, server: Server):
    """Open browser contexts; every page's console errors (CSP violations included) fail the test."""
    from tests.browser.pages import watch_console

    opened = []
    problems: list[str] = []

    def new_context(**kwargs):
        context = browser.new_context(base_url=server.url, **kwargs)
        context.on("page", lambda page: watch_console(page, problems))
        opened.append(context)
        return context

    yield new_context
    for context in opened:
        context.close()
    assert problems == [], "browser console errors:\n" + "\n".join(problems)
