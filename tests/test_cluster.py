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


# ------------------------------------------------ nginx's body limits (issue 16: case images)


@pytest.fixture
def nginx_before_an_echo(tmp_path):
    """nginx rendered from deploy/nginx.conf.template as `make cluster` renders it, in front of a
    stand-in upstream that answers 200 "received N bytes": what nginx lets through reaches it."""
    import http.server
    import threading
    import time
    from pathlib import Path

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        if REQUIRE_SERVICES:
            pytest.fail("nginx is required for the body-limit test")
        pytest.skip("SKIPPED: nginx is not installed")

    class Echo(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the stdlib's name)
            length = int(self.headers.get("Content-Length", 0))
            while length > 0:
                length -= len(self.rfile.read(min(length, 1 << 20)))
            body = f"received {self.headers.get('Content-Length')} bytes".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    root = Path(__file__).resolve().parent.parent
    conf = (
        (root / "deploy" / "nginx.conf.template")
        .read_text()
        .format(
            run_dir=tmp_path,
            upstreams=f"        server 127.0.0.1:{upstream.server_address[1]};",
            host="127.0.0.1",
            port=port,
            static_root=tmp_path,
        )
    )
    (tmp_path / "nginx.conf").write_text(conf)
    process = subprocess.Popen(
        [nginx, "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"], cwd=tmp_path, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(process.stderr.read().decode() if process.poll() is not None else "no nginx")
                time.sleep(0.1)  # waiting for a subprocess to listen
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()
        upstream.shutdown()
        upstream.server_close()


def post_through(port: int, path: str, size: int, send_body: bool = True) -> tuple[int, str]:
    """POST `size` bytes; without `send_body` only the header says how many (nginx answers on it)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", "application/octet-stream")
    connection.putheader("Content-Length", str(size))
    connection.endheaders()
    if send_body:
        connection.send(b"\0" * size)
    response = connection.getresponse()
    answer = (response.status, response.read().decode())
    connection.close()
    return answer


def test_nginx_takes_image_sized_bodies_only_on_the_authoring_pages(nginx_before_an_echo):
    from cases.images import MAX_UPLOAD_BYTES

    port = nginx_before_an_echo
    image = MAX_UPLOAD_BYTES  # an image at the limit, plus a little of the page's other fields
    for path in ("/author/cases/1/", "/author/cases/new/", "/admin/cases/case/1/change/"):
        assert post_through(port, path, image + 4096) == (200, f"received {image + 4096} bytes"), path
    # Everywhere else the 1 MB limit stays: a vote, a join, the home page.
    for path in ("/e/CASE2/vote", "/", "/authority/", "/e/CASE2/author/"):
        assert post_through(port, path, 2 * 2**20, send_body=False)[0] == 413, path
    assert post_through(port, "/e/CASE2/vote", 4096) == (200, "received 4096 bytes")
    # Past the image limit, nginx refuses the authoring page's body in words, not a bare 413.
    status, text = post_through(port, "/author/cases/1/", 50 * 2**20, send_body=False)
    assert status == 413 and "larger than 10 MB, the limit for a case image" in text
