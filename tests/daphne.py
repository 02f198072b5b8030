"""A real daphne serving the app in a subprocess, on its own SQLite database and a free port.

Browser tests drive it with Chromium; security tests attack it as an outside client would
(what daphne's websocket library accepts or refuses is not what the test communicator does).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
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
                    [sys.executable, *self.launcher, "-b", "127.0.0.1", "-p", str(self.port),
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
            self.port = free_port()
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
    server.start()
    return server
