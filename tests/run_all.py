"""`make test`: the whole suite, on the embedded defaults and again on PostgreSQL + Redis.

Pass 1 runs everything (SQLite, in-memory channel layer, browser tests). Pass 2 reruns the
data and realtime tests against real PostgreSQL and Redis, at the same time as pass 1. A
server that cannot be reached is reported as SKIPPED in plain words; with
CASEBOARD_REQUIRE_SERVICES=1 (CI) it fails instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlparse

POSTGRES_URL = os.environ.get("CASEBOARD_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/caseboard")
REDIS_URL = os.environ.get("CASEBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
REQUIRE = os.environ.get("CASEBOARD_REQUIRE_SERVICES") == "1"


def reachable(url: str, port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or port), timeout=1):
            return True
    except OSError:
        return False


def try_start_redis() -> None:
    if shutil.which("redis-server"):
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=False,
            capture_output=True,
        )


def try_start_postgres() -> None:
    if shutil.which("pg_ctlcluster") and os.path.isdir("/etc/postgresql"):
        for version in os.listdir("/etc/postgresql"):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                check=False,
                capture_output=True,
            )


def wait_for(url: str, port: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if reachable(url, port):
            return True
        time.sleep(0.3)
    return False


def pytest(args: list[str], env: dict[str, str]) -> int:
    print("+ pytest " + " ".join(args), flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)


def services_missing() -> list[str]:
    missing = []
    if not reachable(REDIS_URL, 6379):
        try_start_redis()
        if not wait_for(REDIS_URL, 6379):
            missing.append(f"Redis at {REDIS_URL}")
    if not reachable(POSTGRES_URL, 5432):
        try_start_postgres()
        if not wait_for(POSTGRES_URL, 5432):
            missing.append(f"PostgreSQL at {POSTGRES_URL}")
    return missing


def main() -> int:
    base_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    missing = services_missing()
    second = None
    if not missing:
        # The two passes run at once: they share nothing (pass 2's database is test_caseboard_<pid>,
        # its Redis keys carry their own prefix, every server a free port; the suite is built for
        # two runs on one machine), and on two cores that takes the wall time of the longer one
        # instead of their sum. Pass 2's output is printed when it ends, after pass 1's.
        env = {**base_env, "DATABASE_URL": POSTGRES_URL, "REDIS_URL": REDIS_URL, "CASEBOARD_REQUIRE_SERVICES": "1"}
        args = ["-q", "-m", "not browser", "--ignore=tests/test_bench_smoke.py"]
        log = tempfile.TemporaryFile(mode="w+")
        second = (subprocess.Popen([sys.executable, "-m", "pytest", *args], env=env, stdout=log, stderr=log), log, args)
    rc = pytest(["-q"], base_env)
    if second is not None:
        process, log, args = second
        rc2 = process.wait()
        log.seek(0)
        print("\nPass 2: PostgreSQL + Redis (run beside pass 1)\n+ pytest " + " ".join(args), flush=True)
        print(log.read(), flush=True)
        return rc or rc2
    if rc != 0:
        return rc
    message = "SKIPPED: the PostgreSQL + Redis pass (" + ", ".join(missing) + " not reachable)"
    print("\n" + "!" * len(message) + "\n" + message + "\n" + "!" * len(message), flush=True)
    return 1 if REQUIRE else 0


if __name__ == "__main__":
    sys.exit(main())
