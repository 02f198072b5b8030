"""`make chaos`: run the fault-injection tests, print their figures and write them into docs/reliability.md.

Pass 1 uses the embedded defaults (SQLite, in-memory channel layer for the in-process tests); pass 2,
when PostgreSQL and Redis answer, reruns the folder against them. The multi-process tests always use
their own redis-server and a throwaway database (SQLite file in pass 1, PostgreSQL in pass 2).
The figures replace the block between the markers in docs/reliability.md; the prose around it is kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.run_all import POSTGRES_URL, REDIS_URL, reachable

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"
PASSES = {"sqlite3": "SQLite", "postgresql": "PostgreSQL + Redis"}


def run_pass(name: str, env: dict[str, str], figures: Path) -> int:
    print(f"\n== {name}", flush=True)
    env = {**env, "CASEBOARD_CHAOS_FIGURES": str(figures)}
    return subprocess.call([sys.executable, "-m", "pytest", "tests/reliability", "-q", "-p", "no:cacheprovider"],
                           cwd=ROOT, env=env)  # fmt: skip


def cell(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def render(runs: list[dict]) -> str:
    columns = [PASSES.get(run["database"], run["database"]) for run in runs]
    names = list(dict.fromkeys(name for run in runs for name in run["figures"]))
    lines = [
        f"Measured {runs[0]['date']} on {runs[0]['machine']}.",
        "",
        "Columns: the database of the pass (the in-process tests also switch from the in-memory channel layer "
        "to Redis; the multi-process tests always run a private redis-server).",
        "",
    ]
    for name in names:
        keys = list(dict.fromkeys(k for run in runs for k in run["figures"].get(name, {})))
        lines += [f"#### {name}", "", "| figure | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
        for key in keys:
            values = [cell(run["figures"].get(name, {}).get(key, "–")) for run in runs]
            lines.append(f"| {key.replace('_', ' ')} | " + " | ".join(values) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CASEBOARD_CHAOS_FIGURES"}}
    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.jsonl"
        rc = run_pass("pass 1: SQLite", base, figures)
        if reachable(POSTGRES_URL, 5432) and reachable(REDIS_URL, 6379):
            env = {**base, "DATABASE_URL": POSTGRES_URL, "REDIS_URL": REDIS_URL}
            rc = run_pass("pass 2: PostgreSQL + Redis", env, figures) or rc
        else:
            print(f"SKIPPED: pass 2 (PostgreSQL at {POSTGRES_URL} or Redis at {REDIS_URL} not reachable)")
            if os.environ.get("CASEBOARD_REQUIRE_SERVICES") == "1":
                rc = rc or 1
        runs = [json.loads(line) for line in figures.read_text().splitlines()] if figures.exists() else []
    if not runs:
        print("no figures were recorded")
        return rc or 1
    table = render(runs)
    print("\n" + table)
    if rc != 0:
        print(f"\nNOT written to {DOC.relative_to(ROOT)}: a pass failed (exit {rc})")
        return rc
    text = DOC.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{table}\n{END}{tail}")
    print(f"\nwritten to {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
