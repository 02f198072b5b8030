"""`make cluster`: several Caseboard workers behind nginx, sharing PostgreSQL and Redis.

Every worker joins each event's channel-layer group once (polls/live/hub.py), so a vote cast
through one worker reaches screens connected to any other; nginx balances round robin with
no sticky sessions. `--check` starts the cluster, proves that cross-worker path once and stops.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/caseboard_cluster"
DEFAULT_REDIS = "redis://127.0.0.1:6379/3"


def drop_postgres_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def ensure_postgres_database(url: str, *, fresh: bool = False) -> None:
    """Create the database if missing; `fresh` drops it first (the --check run starts clean)."""
    if not url.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def wait_http(url: str, seconds: float = 30, alive: subprocess.Popen | None = None) -> None:
    """Wait until `url` answers 200; give up early if the process meant to serve it (`alive`) has exited."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline or (alive is not None and alive.poll() is not None):
                raise
            time.sleep(0.3)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def any_free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pick_worker_ports(port: int, workers: int) -> list[int]:
    """`port + 101`, `+ 102`, ... as documented; a taken one (say, a client's ephemeral port) is swapped."""
    ports: list[int] = []
    for candidate in (port + 101 + i for i in range(workers)):
        while candidate in ports or candidate > 65535 or not port_is_free(candidate):
            candidate = any_free_port()
        ports.append(candidate)
    return ports


def worker_command(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        return [
            PYTHON,
            "-m",
            "uvicorn",
            "caseboard.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--ws",
            "websockets",
        ]
    # caseboard.serve is daphne with a graceful SIGTERM: in-flight votes are acked before sockets close.
    return [PYTHON, "-m", "caseboard.serve", "-b", "127.0.0.1", "-p", str(port), "caseboard.asgi:application"]


class Cluster:
    def __init__(self, *, workers: int, server: str, port: int, database_url: str, redis_url: str) -> None:
        self.workers, self.server, self.port = workers, server, port
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # Clusters sharing one Redis must not hear each other's events.
            "CHANNEL_LAYER_PREFIX": os.environ.get("CHANNEL_LAYER_PREFIX", f"caseboard-{port}"),
            "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}"),
            # The workers believe X-Forwarded-For from this cluster's own nginx only (caseboard/clientip.py):
            # without it every phone would have nginx's address and share one join budget.
            "CASEBOARD_TRUSTED_PROXIES": os.environ.get("CASEBOARD_TRUSTED_PROXIES", "127.0.0.1"),
        }
        if not self.env.get("SECRET_KEY"):
            # A cluster on one laptop (no key given): its conveniences, asked for explicitly.
            self.env.setdefault("CASEBOARD_LOCAL", "1")
        self.run_dir = Path(tempfile.mkdtemp(prefix="caseboard-cluster-"))
        self.processes: list[subprocess.Popen] = []
        self.worker_ports = pick_worker_ports(port, workers)

    def manage(self, *args: str) -> None:
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    def manage_output(self, *args: str) -> str:
        """Run a management command against the cluster's database; its standard output."""
        return subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True, text=True
        ).stdout

    def worker_log(self, worker_port: int) -> str:
        return (self.run_dir / f"worker-{worker_port}.log").read_text(errors="replace")[-3000:]

    def start_worker(self, worker_port: int) -> subprocess.Popen:
        log = open(self.run_dir / f"worker-{worker_port}.log", "wb")  # noqa: SIM115 (lives with the process)
        return subprocess.Popen(
            worker_command(self.server, worker_port), cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def start(self, *, fresh: bool = False) -> None:
        ensure_postgres_database(self.env["DATABASE_URL"], fresh=fresh)
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("collectstatic", "--noinput", "-v", "0")
        self.manage("load_demo")
        self.processes = [self.start_worker(worker_port) for worker_port in self.worker_ports]
        for index in range(self.workers):
            # A port free when picked can be taken before the worker binds it (another process's
            # outgoing connection); such a worker exits at once and is restarted on a fresh port.
            for _attempt in range(3):
                try:
                    # Generous: a loaded machine (CI beside other work) can take a while to import Django.
                    wait_http(
                        f"http://127.0.0.1:{self.worker_ports[index]}/healthz", seconds=90, alive=self.processes[index]
                    )
                    break
                except OSError:
                    log = self.worker_log(self.worker_ports[index])
                    if self.processes[index].poll() is None or "Address already in use" not in log:
                        raise RuntimeError(
                            f"worker on :{self.worker_ports[index]} (exit {self.processes[index].poll()}) "
                            f"did not answer:\n{log}"
                        ) from None
                    self.worker_ports[index] = pick_worker_ports(any_free_port() - 101, 1)[0]
                    self.processes[index] = self.start_worker(self.worker_ports[index])
            else:
                raise RuntimeError(f"no free port for worker {index} after 3 tries")
        conf = (
            (ROOT / "deploy" / "nginx.conf.template")
            .read_text()
            .format(
                run_dir=self.run_dir,
                upstreams="\n".join(f"        server 127.0.0.1:{p};" for p in self.worker_ports),
                host="127.0.0.1",
                port=self.port,
                static_root=ROOT / "staticfiles",
            )
        )
        (self.run_dir / "nginx.conf").write_text(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.processes.append(
            subprocess.Popen([nginx, "-c", str(self.run_dir / "nginx.conf"), "-g", "daemon off;"], cwd=self.run_dir)
        )
        wait_http(f"http://127.0.0.1:{self.port}/healthz")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--check", action="store_true", help="prove a cross-worker vote, then stop")
    args = parser.parse_args()
    cluster = Cluster(
        workers=args.workers,
        server=args.server,
        port=args.port,
        database_url=args.database_url,
        redis_url=args.redis_url,
    )
    try:
        cluster.start(fresh=args.check)
        if args.check:
            from deploy.check import cross_worker_vote  # noqa: PLC0415 (needs websockets only here)

            print(cross_worker_vote(cluster))
            return 0
        base = f"http://127.0.0.1:{args.port}"
        print(f"Cluster of {args.workers} {args.server} workers behind nginx at {base}/ (Ctrl-C to stop)")
        print(f"  participant {base}/e/CASE2/   presenter {base}/e/CASE2/present/   moderator {base}/e/CASE2/moderate/")
        while all(p.poll() is None for p in cluster.processes):
            time.sleep(1)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()
        if args.check:
            drop_postgres_database(args.database_url)


if __name__ == "__main__":
    sys.exit(main())
