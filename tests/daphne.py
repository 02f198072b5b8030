"""A real daphne serving the app in a subprocess, on its own SQLite database and a free port.

Browser tests drive it with Chromium; security tests attack it as an outside client would
(what daphne's websocket library accepts or refuses is not what the test communicator does).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 60
# Settings the server must not inherit from the developer's shell.
SCRUBBED_ENV = ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "ALLOWED_HOSTS", "SECRET_KEY", "LOG_LEVEL")


@dataclass
class Server:
    url: str
    port: int
    env: dict[str, str]
    workdir: Path
    password: str
    process: subprocess.Popen | None = None
    starts: int = 0
    # How the server is launched: plain daphne, or e.g. ("-m", "caseboard.serve", "--http-idle-timeout", "3").
    launcher: tuple[str, ...] = ("-m", "daphne")
    # A copy of the database right after `load_demo`: resetting restores it (see reset_demo).
    snapshot: Path | None = None
    # A daphne started ahead for the next reset: (process, log, port).
    spare: tuple[subprocess.Popen, Path, int] | None = None

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

    def _launch(self, port: int) -> tuple[subprocess.Popen, Path]:
        self.starts += 1
        log_path = self.workdir / f"daphne-{self.starts}.log"
        with open(log_path, "wb") as log:  # the child keeps its own descriptor
            process = subprocess.Popen(
                [sys.executable, *self.launcher, "-b", "127.0.0.1", "-p", str(port), "caseboard.asgi:application"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return process, log_path

    def start(self) -> None:
        """Start daphne; if another process took the port meanwhile (another test run on this
        machine, or a client's ephemeral port), start it again on a free one."""
        for _ in range(5):
            self.process, log_path = self._launch(self.port)
            try:
                _wait_healthy(self.url, self.process, log_path)
                return
            except AssertionError:
                if self.process.poll() is None or "Address already in use" not in log_path.read_text(errors="replace"):
                    raise
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        raise AssertionError("daphne found no free port in five tries")

    def stop(self) -> None:
        self._stop_spare()
        if self.process is None:
            return
        _end(self.process)
        self.process = None

    def _stop_spare(self) -> None:
        if self.spare is not None:
            _end(self.spare[0])
            self.spare = None

    def _start_from_spare(self) -> None:
        """Serve from the spare process started at the previous reset, if it came up.

        It has imported the app and listens, but has answered nothing, so it holds no cache of
        the database it will serve (the reason a reset needs a new process at all); taking it
        saves every browser test the two seconds of a daphne start."""
        spare, self.spare = self.spare, None
        if spare is None:
            self.start()
            return
        process, log_path, port = spare
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process, log_path)
        except AssertionError:  # e.g. its port was taken meanwhile: a plain start instead
            _end(process)
            self.start()
            return
        self.process, self.port, self.url = process, port, url

    def reset_demo(self) -> None:
        """The demo as `load_demo` left it (no votes, every poll a draft, nothing revealed), served
        by a fresh process: a new process drops every per-process cache of the old state (join code
        to event id, the fan-out hub's state) at once. The server's URL may change (another port).
        """
        if self.process is not None:
            _end(self.process)
            self.process = None
        if self.snapshot is None:
            self._stop_spare()
            self.manage("load_demo", "--reset")
            self.start()
            return
        restore_snapshot(self.database, self.snapshot)
        self._start_from_spare()
        port = free_port()
        self.spare = (*self._launch(port), port)

    @property
    def database(self) -> Path:
        return self.workdir / "db.sqlite3"

    def take_snapshot(self) -> None:
        """Keep the database as it is now (the freshly loaded demo) for reset_demo to restore."""
        self.snapshot = self.workdir / "demo-snapshot.sqlite3"
        source = sqlite3.connect(self.database)
        target = sqlite3.connect(self.snapshot)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()


# Kept across a reset: the moderator's login (a session-scoped fixture logs in once).
KEPT_ON_RESET = {"django_session"}


def restore_snapshot(database: Path, snapshot: Path) -> None:
    """Put every table but the sessions back as `load_demo` left it, in one transaction.

    Restoring a copy takes milliseconds where `load_demo --reset` (a Python process importing
    Django) took three seconds of every browser test's setup; tests/polls/test_load_demo.py tests
    the command itself. The server is stopped, so nothing else holds the database.
    """
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("ATTACH DATABASE ? AS snapshot", (str(snapshot),))
        # The rows were checked when the demo stored them; some checks call Django's REGEXP.
        connection.execute("PRAGMA ignore_check_constraints = ON")
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM snapshot.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
            if name not in KEPT_ON_RESET
        ]
        connection.execute("BEGIN IMMEDIATE")
        for name in tables:
            connection.execute(f'DELETE FROM main."{name}"')  # noqa: S608 (names from sqlite_master)
            connection.execute(f'INSERT INTO main."{name}" SELECT * FROM snapshot."{name}"')  # noqa: S608
        connection.execute("DELETE FROM main.sqlite_sequence")
        connection.execute("INSERT INTO main.sqlite_sequence SELECT * FROM snapshot.sqlite_sequence")
        connection.execute("COMMIT")
    finally:
        connection.close()


def _end(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def free_port() -> int:
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


def serve_demo(workdir: Path, launcher: tuple[str, ...] = ("-m", "daphne"), **extra_env: str) -> Server:
    """Migrate a fresh SQLite database in `workdir`, load the demo and start daphne on a free port
    (`launcher`: `("-m", "caseboard.serve", ...)` for the launcher `make run` uses)."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    password = "demo-" + secrets.token_urlsafe(12)
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        CASEBOARD_LOCAL="1",
        DJANGO_SETTINGS_MODULE="caseboard.settings",
        CASEBOARD_DEMO_PASSWORD=password,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env)
    port = free_port()
    server = Server(
        url=f"http://127.0.0.1:{port}", port=port, env=env, workdir=workdir, password=password, launcher=launcher
    )
    server.manage("migrate", "--noinput")
    server.manage("load_demo")
    server.take_snapshot()
    server.start()
    return server
