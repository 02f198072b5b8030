"""Figures measured by the fault-injection tests, written out for `make chaos` and docs/reliability.md.

Tests call `record(name, **values)`; at the end of the session tests/reliability/conftest.py
appends them as one JSON line per run to the file named by CASEBOARD_CHAOS_FIGURES (if set).
"""

from __future__ import annotations

import json
import os
import platform
import time
from typing import Any

FIGURES: dict[str, dict[str, Any]] = {}


def record(name: str, **values: Any) -> None:
    FIGURES.setdefault(name, {}).update(values)


def dump(database: str, channel_layer: str) -> None:
    path = os.environ.get("CASEBOARD_CHAOS_FIGURES")
    if not path or not FIGURES:
        return
    run = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": f"{platform.node()} · {platform.system()} {platform.release()} · {platform.machine()} · "
        f"{os.cpu_count()} CPUs · Python {platform.python_version()}",
        "database": database,
        "channel_layer": channel_layer,
        "figures": FIGURES,
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(run) + "\n")
