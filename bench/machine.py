"""Describe the machine and software a benchmark ran on."""

from __future__ import annotations

import os
import platform
import sqlite3
import time
from importlib import metadata

import psutil

PACKAGES = (
    "Django", "channels", "channels-redis", "daphne", "Twisted", "autobahn", "uvicorn", "websockets",
    "uvloop", "httptools", "redis", "psycopg", "psutil",
)  # fmt: skip


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": versions,
    }


def background_load(seconds: float = 2.0) -> float:
    """CPU used by every process on the machine over `seconds`, in % of one core."""
    from bench.monitor import busy_seconds

    before = busy_seconds()
    time.sleep(seconds)
    return 100 * (busy_seconds() - before) / seconds


def wait_quiet(*, max_wait_s: float, threshold_pct: float = 25.0) -> dict:
    """Wait (up to max_wait_s) until other work on the machine uses less than threshold_pct of a core.

    The box may be shared (test suites, browsers): a run that starts on a busy machine measures
    the neighbours as much as the server. The load seen at the start is recorded either way.
    """
    started = time.monotonic()
    while True:
        load = background_load()
        waited = time.monotonic() - started
        if load <= threshold_pct or waited >= max_wait_s:
            return {"background_cpu_pct": round(load, 1), "waited_s": round(waited, 1), "quiet": load <= threshold_pct}
        time.sleep(5)
