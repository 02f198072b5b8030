"""The systems under test: how each is started, pinned, checked for readiness and stopped.

Every server binds 127.0.0.1 only, runs pinned to core 0 (taskset, or sched_setaffinity when
taskset is missing) with the file-descriptor limit raised to the hard limit, and logs to a file
that is kept next to the results.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SERVER_CORE = 0
GENERATOR_CORE = 1
UVICORN_WS = "websockets-sansio"
# Server and generator run at a raised priority (when allowed) so that other work on a shared
# machine disturbs the measurement less; such work is still measured and flagged (monitor.py).
# With the kernel's autogroup scheduling, a process's nice value only counts inside its session,
# so each child starts its own session and raises that session's weight too.
PRIORITY_NICE = -10


@dataclass(frozen=True)
class System:
    key: str
    label: str
    needs_database: bool

    def argv(self, port: int, prep: dict) -> list[str]:
        host, p = "127.0.0.1", str(port)
        if self.key == "naive":
            return [str(VENV_BIN / "daphne"), "-v", "0", "-b", host, "-p", p, "bench.naive.asgi:application"]
        if self.key == "daphne":
            # What `make run` and `make cluster` run: daphne through caseboard.serve.
            return [str(VENV_BIN / "python"), "-m", "caseboard.serve", "-v", "0", "-b", host, "-p", p,
                    "caseboard.asgi:application"]  # fmt: skip
        if self.key == "uvicorn":
            return [
                str(VENV_BIN / "uvicorn"), "caseboard.asgi:application", "--host", host, "--port", p,
                "--ws", UVICORN_WS, "--lifespan", "off", "--log-level", "warning", "--no-access-log",
            ]  # fmt: skip
        if self.key == "ceiling":
            options = ",".join(str(o) for o in prep["options"])
            return [
                sys.executable,
                "-m",
                "bench.ceiling",
                "--port",
                p,
                "--poll",
                str(prep["poll"]),
                "--options",
                options,
            ]
        raise ValueError(self.key)


SYSTEMS = {
    "naive": System("naive", "(a) naive Channels on daphne", True),
    "daphne": System("daphne", "(b) Caseboard on daphne", True),
    "uvicorn": System("uvicorn", f"(b) Caseboard on uvicorn ({UVICORN_WS})", True),
    "ceiling": System("ceiling", "(c) bare websockets ceiling", False),
}
# The systems that run Caseboard's own code, and so can also be run at an older commit (`--baseline`):
# such a run is named `<key>@<short commit>`, e.g. `daphne@7d6a9eb`.
APP_SYSTEMS = ("daphne", "uvicorn")


def system_of(name: str) -> System:
    """The system a run name stands for: `daphne` and `daphne@7d6a9eb` both run `SYSTEMS["daphne"]`."""
    return SYSTEMS[name.partition("@")[0]]


def pinned(argv: list[str], core: int) -> tuple[list[str], object]:
    """Command and preexec function that pin a child to one core, raise its open-file limit and priority."""
    taskset = shutil.which("taskset")
    cores = os.sched_getaffinity(0) | {SERVER_CORE, GENERATOR_CORE}
    usable = core < (os.cpu_count() or 1) and core in cores

    def preexec() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        try:
            os.setpriority(os.PRIO_PROCESS, 0, PRIORITY_NICE)
            with open("/proc/self/autogroup", "w") as fh:
                fh.write(str(PRIORITY_NICE))
        except OSError:
            pass  # not allowed, or no autogroups: run at normal priority
        if usable and not taskset:
            os.sched_setaffinity(0, {core})

    if usable and taskset:
        argv = [taskset, "-c", str(core), *argv]
    return argv, preexec


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, system: System, *, port: int, env: dict, prep: dict, log_path: Path, cwd: Path) -> None:
        self.system, self.port, self.log_path = system, port, log_path
        argv, preexec = pinned(system.argv(port, prep), SERVER_CORE)
        self.argv = argv
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.system.key} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.system.key} did not listen on port {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()

    def log_summary(self, limit: int = 30) -> dict:
        """Count tracebacks and error lines in the server log; keep the first traceback."""
        text = self.log_path.read_text(errors="replace")
        lines = text.splitlines()
        first: list[str] = []
        for i, line in enumerate(lines):
            if line.startswith("Traceback"):
                first = lines[max(0, i - 2) : i + limit]
                break
        return {
            "tracebacks": text.count("Traceback (most recent call last)"),
            "error_lines": sum(" ERROR " in line or " CRITICAL " in line for line in lines),
            "warning_lines": sum(" WARNING " in line for line in lines),
            "first_traceback": "\n".join(first),
            "log": str(self.log_path),
        }
