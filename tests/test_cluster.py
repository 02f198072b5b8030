"""`make cluster` really runs: workers behind nginx, a vote on one worker reaches a screen on another."""

import os
import shutil
import socket
import subprocess
import sys

import pytest

from tests.conftest import REQUIRE_SERVICES, service_reachable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_worker_ports_skip_a_port_already_taken():
    from deploy.cluster import pick_worker_ports, port_is_free

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        taken_port = taken.getsockname()[1]
        ports = pick_worker_ports(taken_port - 101, 2)
        assert taken_port not in ports
        assert len(set(ports)) == 2
        assert all(port_is_free(port) for port in ports)


@pytest.mark.redis
@pytest.mark.postgres
def test_vote_on_one_worker_reaches_a_screen_on_another():
    missing = [
        what
        for what, ok in [
            ("nginx", shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")),
            ("PostgreSQL", service_reachable("postgres://127.0.0.1:5432", 5432)),
            ("Redis", service_reachable("redis://127.0.0.1:6379", 6379)),
        ]
        if not ok
    ]
    if missing:
        if REQUIRE_SERVICES:
            pytest.fail(f"required for the cluster test but missing: {', '.join(missing)}")
        pytest.skip(f"SKIPPED: cluster test needs {', '.join(missing)}")
    port = free_port()
    while port + 102 > 65535:
        port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deploy.cluster",
            "--workers",
            "2",
            "--port",
            str(port),
            "--check",
            "--database-url",
            f"postgres://postgres@127.0.0.1:5432/caseboard_cluster_{os.getpid()}",
            "--redis-url",
            "redis://127.0.0.1:6379/13",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "ok: vote on worker" in result.stdout
