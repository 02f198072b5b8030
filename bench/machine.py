"""Describe the machine and software a benchmark ran on."""

from __future__ import annotations

import os
import platform
import sqlite3
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
