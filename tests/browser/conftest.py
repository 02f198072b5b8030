"""Browser tests: the real app under daphne (own SQLite database), driven by Chromium via sync Playwright.

These tests never touch pytest-django's database: the server process has its own. Chromium is
the Debian build at /usr/bin/chromium (override with CASEBOARD_CHROMIUM); when it is missing the
tests are skipped, unless CASEBOARD_REQUIRE_BROWSER=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

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
STARTUP_TIMEOUT_S = 60
# Settings the server must not inherit from the developer's shell.
SCRUBBED_ENV = ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "ALLOWED_HOSTS", "SECRET_KEY", "LOG_LEVEL")


def skip_or_fail(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (CASEBOARD_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Server:
    url: str
    port: int
    env: dict[str, str]
    workdir: Path
    password: str
    process: subprocess.Popen | None = None
    starts: int = 0

    def manage(self, *args: str) -> str:
        """Run a management command against the server's database."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self) -> None:
        """Start daphne; if another process took the port meanwhile (another test run on this
        machine, or a client's ephemeral port), start it again on a free one."""
        for _ in range(5):
            self.starts += 1
            log_path = self.workdir / f"daphne-{self.starts}.log"
            with open(log_path, "wb") as log:  # the child keeps its own descriptor
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                     "caseboard.asgi:application"],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
            try:
                _wait_healthy(self.url, self.process, log_path)
                return
            except AssertionError:
                if self.process.poll() is None or "Address already in use" not in log_path.read_text(errors="replace"):
                    raise
            self.port = _free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        raise AssertionError("daphne found no free port in five tries")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def reset_demo(self) -> None:
        """A fresh CASE2 (no votes, every poll a draft, nothing revealed) served by a fresh process.

        The reset recreates the event under a new id; restarting daphne drops every per-process
        cache of the old one (join code to event id, the fan-out hub's state) at once.
        """
        self.stop()
        self.manage("load_demo", "--reset")
        self.start()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"daphne exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310 (local URL)
                if json.load(response).get("status") == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError) as exc:
            last_error = str(exc)
        time.sleep(0.2)  # polling a subprocess's readiness, not waiting on the page
    raise AssertionError(f"daphne did not become healthy ({last_error}):\n{log.read_text()[-4000:]}")


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
    workdir = tmp_path_factory.mktemp("caseboard-browser")
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    password = "browser-" + secrets.token_urlsafe(12)
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        DEBUG="true",
        DJANGO_SETTINGS_MODULE="caseboard.settings",
        CASEBOARD_DEMO_PASSWORD=password,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    if os.environ.get("CASEBOARD_SCREENSHOTS") == "1":
        env["PUBLIC_BASE_URL"] = "https://caseboard.example.org"  # a tidy join URL and QR code in the images
    port = _free_port()
    srv = Server(url=f"http://127.0.0.1:{port}", port=port, env=env, workdir=workdir, password=password)
    srv.manage("migrate", "--noinput")
    srv.manage("load_demo")
    srv.start()
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
