"""Real servers as subprocesses: a private redis-server, daphne workers and the database they share.

The redis-server is started on a free port with persistence off, so killing it never touches the
shared Redis at 6379. The database is a temporary SQLite file (WAL, set by settings.py) or, when the
suite runs against PostgreSQL (DATABASE_URL), a throwaway database on that server.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRE_SERVICES = os.environ.get("CASEBOARD_REQUIRE_SERVICES") == "1"
SCRUBBED_ENV = ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "ALLOWED_HOSTS", "SECRET_KEY", "LOG_LEVEL", "DEBUG")
STARTUP_TIMEOUT_S = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_redis_server() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        if REQUIRE_SERVICES:
            pytest.fail("redis-server is required for the multi-process tests (CASEBOARD_REQUIRE_SERVICES=1)")
        pytest.skip("SKIPPED: redis-server not installed; the multi-process fault tests need a private one")
    return binary


def http_get(url: str, timeout: float = 10) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (a local test server)
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


class RedisServer:
    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary, self.workdir, self.port = binary, workdir, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.workdir), "--loglevel", "warning"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def flushall(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
            conn.sendall(b"FLUSHALL\r\n")
            assert conn.recv(16).startswith(b"+OK")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Database:
    """A throwaway database the servers and the test process both reach."""

    def __init__(self, workdir: Path) -> None:
        parent = os.environ.get("DATABASE_URL", "")
        self.postgres = parent.startswith(("postgres://", "postgresql://"))
        if self.postgres:
            parsed = urlparse(parent)
            self.name = f"caseboard_chaos_{secrets.token_hex(4)}"
            self.admin = parsed._replace(path="/postgres").geturl()
            self.url = parsed._replace(path=f"/{self.name}").geturl()
        else:
            self.path = workdir / "chaos.sqlite3"
            self.url = f"sqlite:///{self.path}"
        self.vendor = "postgresql" if self.postgres else "sqlite"

    def create(self) -> None:
        if self.postgres:
            import psycopg

            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        if self.postgres:
            import psycopg

            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def connect(self):
        if self.postgres:
            import psycopg

            return psycopg.connect(self.url, autocommit=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        return conn

    def query(self, sql: str, *params) -> list[tuple]:
        conn = self.connect()
        try:
            return list(conn.execute(sql if self.postgres else sql.replace("%s", "?"), params).fetchall())
        finally:
            conn.close()

    def receipts(self, poll: int) -> set[tuple[int, str]]:
        return set(self.query("SELECT participant_id, ref FROM polls_votereceipt WHERE poll_id = %s", poll))

    def votes(self, poll: int) -> int:
        return self.query("SELECT count(*) FROM polls_vote WHERE poll_id = %s", poll)[0][0]

    def lock_votes(self):
        """Hold a lock that makes every vote transaction wait; returns a connection to roll back."""
        conn = self.connect()
        if self.postgres:
            conn.execute("BEGIN")
            conn.execute("LOCK TABLE polls_votereceipt IN ACCESS EXCLUSIVE MODE")
        else:
            conn.execute("BEGIN IMMEDIATE")  # WAL: readers go on, writers queue on the busy timeout
        return conn


class Worker:
    def __init__(self, name: str, env: dict, workdir: Path, *, graceful: bool) -> None:
        self.name, self.env, self.graceful = name, env, graceful
        self.log_path = workdir / f"worker-{name}.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        module = ["-m", "caseboard.serve", "--drain-timeout", "15"] if self.graceful else ["-m", "daphne"]
        args = [sys.executable, *module, "-v", "0", "-b", "127.0.0.1", "-p", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*args, "caseboard.asgi:application"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited:\n{self.log_tail()}")
            try:
                if http_get(f"{self.url}/healthz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"worker {self.name} did not become healthy:\n{self.log_tail()}")

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.running:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


class Cluster:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.redis = RedisServer(require_redis_server(), workdir)
        self.db = Database(workdir)
        self.env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
        self.env.update(
            DATABASE_URL=self.db.url,
            REDIS_URL=self.redis.url,
            CHANNEL_LAYER_PREFIX=f"chaos{secrets.token_hex(3)}",
            CASEBOARD_LOCAL="1",
            SECRET_KEY="chaos-tests-only-" + secrets.token_hex(16),
            LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="caseboard.settings",
            PYTHONUNBUFFERED="1",
        )
        self.workers: dict[str, Worker] = {}

    def start(self) -> None:
        self.redis.start()
        self.db.create()
        self.manage("migrate", "--noinput")

    def run(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    def manage(self, *args: str) -> str:
        return self.run("manage.py", *args)

    def seed(self, phones: int = 0) -> dict:
        """A new event with an open poll, its moderator's session and `phones` participant sessions."""
        return json.loads(self.run("-m", "tests.reliability.seed", json.dumps({"phones": phones})).splitlines()[-1])

    def worker(self, name: str, *, graceful: bool = True) -> Worker:
        """The named worker, (re)started if it is not running; `graceful` runs caseboard/serve.py, else daphne."""
        if not self.redis.running:
            self.redis.start()
        worker = self.workers.get(name)
        if worker is None or not worker.running or worker.graceful != graceful:
            if worker is not None:
                worker.stop()
            worker = self.workers[name] = Worker(name, self.env, self.workdir, graceful=graceful)
            worker.start()
        return worker

    def stop(self) -> None:
        for worker in self.workers.values():
            if worker.running:
                worker.signal(signal.SIGKILL)
                worker.wait(timeout=10)
        self.redis.kill()
        self.db.drop()
