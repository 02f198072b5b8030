"""The Caseboard benchmark: one command, every system side by side, results in JSON and docs/benchmarks.md.

    .venv/bin/python -m bench.run [--profile smoke|full] [--phones 500,1000,2000,5000]
                                  [--systems naive,daphne,uvicorn,ceiling]
                                  [--database-url postgres://postgres@127.0.0.1:5432/caseboard_bench]
                                  [--redis-url redis://127.0.0.1:6379/0]
                                  [--baseline REV]

For each phone count and system: a fresh database (SQLite in a temp dir, or the PostgreSQL
database named by --database-url, dropped and recreated), the server pinned to core 0, the load
generator pinned to core 1, four scenarios (bench/loadgen.py), the tally read back from the
database. The smoke profile checks correctness only and exits 1 when it fails.

--baseline REV measures an older commit beside the current code, in the same run: REV is
exported (git archive) to a directory of its own, and every Caseboard system asked for (daphne,
uvicorn) also runs from there, as `daphne@<short REV>`. Such a run's server, migrations and
database seeding (bench/dbprep.py) are REV's; the load generator and the evaluation are the
current code's, so both sides are measured the same way. At each phone count the two run back
to back (which goes first alternates), and docs/benchmarks.md gets a before / after table:

    make bench BENCH_ARGS="--phones 2000,5000 --systems naive,daphne,uvicorn,ceiling --baseline 7d6a9eb"

--scenario questions runs the audience-questions scenario instead (bench/questions.py: 2,000
phones, 200 questions, 5,000 upvotes in 60 s by default; its own section of docs/benchmarks.md):

    make bench BENCH_ARGS="--scenario questions"
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import compare, evaluate, machine, report
from bench.servers import APP_SYSTEMS, GENERATOR_CORE, ROOT, SYSTEMS, Server, free_port, pinned, system_of

RESULTS_DIR = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"

PROFILES = {
    "smoke": {
        "phones": [300],
        "systems": ["daphne"],
        "timing": {
            "join_spread_s": 5, "vote_window_s": 5, "reconnect_spread_s": 3, "open_timeout_s": 20,
            "retry_window_s": 20, "ack_timeout_s": 30, "settle_timeout_s": 15, "reveal_timeout_s": 10,
            "command_timeout_s": 15,
        },
    },
    "full": {
        "phones": [500, 1000, 2000, 5000],
        "systems": ["naive", "daphne", "uvicorn", "ceiling"],
        "timing": {
            "join_spread_s": 30, "vote_window_s": 10, "reconnect_spread_s": 10, "open_timeout_s": 20,
            "retry_window_s": 30, "ack_timeout_s": 40, "settle_timeout_s": 15, "reveal_timeout_s": 10,
            "command_timeout_s": 15,
        },
    },
}  # fmt: skip
# Hard cap on one generator run: the scenario timeouts above sum to less than this.
GENERATOR_HARD_TIMEOUT_S = 300


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=True)


def snapshot_source(dest: Path, rev: str = "HEAD") -> dict:
    """Export the committed tree at `rev` to `dest`: a long run measures one version of the code even
    while the working tree changes under it."""
    sha = _git("rev-parse", "--verify", f"{rev}^{{commit}}").stdout.decode().strip()
    archive = _git("archive", "--format=tar", sha).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    code = {"commit": sha, "source": f"snapshot of {rev}"}
    if rev == "HEAD":
        paths = ["caseboard", "cases", "polls", "bench", "requirements.txt"]
        dirty = _git("status", "--porcelain", "--", *paths).stdout.decode().splitlines()
        code["uncommitted_changes_not_measured"] = dirty
    return code


def baseline_source(dest: Path, rev: str, current: Path) -> dict:
    """Export `rev` for the baseline systems, and say whether it can be measured like the current code:
    its requirements (the venv is the current one) and its database side (bench/dbprep.py)."""
    try:
        code = snapshot_source(dest, rev)
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"--baseline {rev}: {exc.stderr.decode().strip() or 'not a commit'}")
    code["short"] = _git("rev-parse", "--short=7", code["commit"]).stdout.decode().strip()
    if not (dest / "bench" / "dbprep.py").exists() or not (dest / "caseboard" / "asgi.py").exists():
        raise SystemExit(f"--baseline {rev}: that commit has no bench/dbprep.py or caseboard/asgi.py to run")
    for name in ("requirements.txt", "bench/dbprep.py"):
        mine, theirs = current / name, dest / name
        same = mine.exists() and theirs.read_bytes() == mine.read_bytes()
        code[name] = "the same as the current code's" if same else "differs from the current code's"
        if not same:
            print(f"[bench] note: {name} at {code['short']} differs from the current code's", flush=True)
    return code


def working_tree() -> dict:
    git = ["git", "-C", str(ROOT)]
    sha = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    return {"commit": sha, "source": "working tree (may include uncommitted changes)"}


def server_env(database_url: str, redis_url: str | None, prefix: str, src: Path, settings: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DJANGO_SETTINGS_MODULE=settings,
        DEBUG="false",
        SECRET_KEY="bench-" + secrets.token_hex(24),
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(src),
    )
    if redis_url:
        env.update(REDIS_URL=redis_url, CHANNEL_LAYER_PREFIX=prefix)
    return env


def _python(args: list[str], env: dict, timeout: float) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=env["PYTHONPATH"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def prepare(system_key: str, phones: int, env: dict, tmp: Path) -> dict:
    if not system_of(system_key).needs_database:
        keys = [secrets.token_hex(16) for _ in range(phones)]
        return {"code": "BENCH", "poll": 1, "options": [1, 2, 3, 4], "sessions": keys, "moderator_session": "m"}
    out = tmp / "prep.json"
    _python(["-m", "bench.dbprep", "prepare", "--phones", str(phones), "--out", str(out)], env, timeout=600)
    return json.loads(out.read_text())


def counted(system_key: str, prep: dict, env: dict, port: int) -> dict:
    if system_of(system_key).needs_database:
        return json.loads(_python(["-m", "bench.dbprep", "count", "--poll", str(prep["poll"])], env, timeout=120))
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/count.json", timeout=10) as resp:  # noqa: S310 (localhost)
        return json.loads(resp.read())


def run_generator(plan: dict, tmp: Path, src: Path) -> dict:
    plan_path, out_path = tmp / "plan.json", tmp / "loadgen.json"
    plan_path.write_text(json.dumps(plan))
    argv, preexec = pinned(
        [sys.executable, "-m", "bench.loadgen", "--plan", str(plan_path), "--out", str(out_path)], GENERATOR_CORE
    )
    with open(tmp / "loadgen.log", "w") as log:
        proc = subprocess.Popen(
            argv, cwd=src, stdout=log, stderr=subprocess.STDOUT, preexec_fn=preexec, start_new_session=True
        )
        try:
            proc.wait(timeout=GENERATOR_HARD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    result = json.loads(out_path.read_text()) if out_path.exists() else {"scenarios": {}}
    result["exit_code"] = proc.returncode
    if proc.returncode != 0:
        result["log_tail"] = (tmp / "loadgen.log").read_text(errors="replace")[-3000:]
    return result


def run_one(system_key: str, phones: int, *, timing: dict, args, run_dir: Path, seed: int) -> dict:
    """One system at one phone count. A baseline system (`daphne@7d6a9eb`) runs its server and its
    database side from the baseline's snapshot; the generator always runs from the current code."""
    system = system_of(system_key)
    baseline = "@" in system_key
    src, code = (args.baseline_src, args.baseline_code) if baseline else (args.src, args.code)
    started = time.monotonic()
    record: dict = {
        "system": system_key,
        "label": system.label + (f", at {code['short']}" if baseline else ""),
        "phones": phones,
        "code": {"commit": code.get("commit"), "source": code.get("source"), "baseline": baseline},
    }
    with tempfile.TemporaryDirectory(prefix="caseboard-bench-") as tmpdir:
        tmp = Path(tmpdir)
        database_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
        prefix = f"bench{int(time.time())}{system_key.replace('@', '')}{phones}"
        env = server_env(database_url, args.redis_url, prefix=prefix, src=src, settings=args.settings)
        server = None
        try:
            prep = prepare(system_key, phones, env, tmp)
            record["prepare_s"] = prep.get("seconds")
            record["machine_before"] = machine.wait_quiet(max_wait_s=args.quiet_wait)
            port = free_port()
            log_path = run_dir / f"{system_key}-{phones}.log"
            server = Server(system, port=port, env=env, prep=prep, log_path=log_path, cwd=src)
            record["argv"] = server.argv
            server.wait_ready()
            plan = {
                **prep,
                "url": f"ws://127.0.0.1:{port}",
                "origin": f"http://127.0.0.1:{port}",
                "server_pid": server.pid,
                "seed": seed,
                "timing": timing,
            }
            record["generator"] = run_generator(plan, tmp, args.src)
            record["database"] = counted(system_key, prep, env, port)
        except Exception as exc:
            record["harness_error"] = f"{type(exc).__name__}: {str(exc)[-2000:]}"
        finally:
            if server is not None:
                server.stop()
                record["server_log"] = server.log_summary()
            if args.database_url and system.needs_database:
                try:
                    _python(["-m", "bench.dbprep", "drop"], env, timeout=60)
                except RuntimeError as exc:
                    record["drop_error"] = str(exc)
    record["seconds"] = round(time.monotonic() - started, 1)
    record["correctness"] = evaluate.correctness(record)
    return record


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--phones", help="comma-separated phone counts (overrides the profile)")
    parser.add_argument("--systems", help="comma-separated subset of " + ",".join(SYSTEMS))
    parser.add_argument("--database-url", help="PostgreSQL URL of a scratch database (dropped and recreated per run)")
    parser.add_argument("--redis-url", help="use the Redis channel layer in the Django systems")
    parser.add_argument(
        "--settings", default="caseboard.settings", help="Django settings module of the servers (experiments)"
    )
    parser.add_argument("--out", help="results JSON path (default bench/results/<timestamp>.json)")
    parser.add_argument("--seed", type=int, default=20251125)
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument(
        "--source",
        choices=["head", "worktree"],
        help="code to measure: a snapshot of the committed HEAD (default for full) or the working tree (smoke)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also run daphne/uvicorn (those asked for) at commit REV, side by side, as e.g. daphne@7d6a9eb",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        help="seconds to wait for other processes to calm down before each run (default: 300 full, 0 smoke)",
    )
    args = parser.parse_args(argv)
    if args.database_url and not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a PostgreSQL URL (SQLite is the default)")
    for url in (args.database_url, args.redis_url):
        if url and "127.0.0.1" not in url and "localhost" not in url:
            parser.error("the benchmark only talks to 127.0.0.1")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = list(argv if argv is not None else sys.argv[1:])
    if "--scenario" in argv:  # `--scenario questions`: the audience-questions scenario (bench/questions.py)
        at = argv.index("--scenario")
        scenario, argv = argv[at + 1 : at + 2], argv[:at] + argv[at + 2 :]
        if scenario != ["votes"]:
            if scenario != ["questions"]:
                raise SystemExit("--scenario is votes (the default) or questions")
            return subprocess.call([sys.executable, "-m", "bench.questions", *argv], cwd=ROOT)
    args = parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    profile = PROFILES[args.profile]
    if args.quiet_wait is None:
        args.quiet_wait = 0.0 if args.profile == "smoke" else 300.0
    source = args.source or ("worktree" if args.profile == "smoke" else "head")
    with (
        tempfile.TemporaryDirectory(prefix="caseboard-bench-src-") as snapshot,
        tempfile.TemporaryDirectory(prefix="caseboard-bench-baseline-") as old,
    ):
        if source == "head":
            code = snapshot_source(Path(snapshot))
            args.src = Path(snapshot)
        else:
            code = working_tree()
            args.src = ROOT
        args.code = code
        args.baseline_src, args.baseline_code = None, None
        if args.baseline:
            args.baseline_code = baseline_source(Path(old), args.baseline, args.src)
            args.baseline_src = Path(old)
        return run_all(args, profile, code)


def schedule(systems: list[str], phones: list[int], baseline: str | None) -> list[tuple[int, list[str]]]:
    """The systems to run at each phone count, in order. With a baseline, each Caseboard system's
    before and after run back to back; which of the two goes first alternates from one phone count
    to the next, so that a drift of the machine's conditions does not always favour one side."""
    plan = []
    for i, n in enumerate(phones):
        names: list[str] = []
        for key in systems:
            pair = [f"{key}@{baseline}", key] if baseline and key in APP_SYSTEMS else [key]
            names += pair if i % 2 == 0 else pair[::-1]
        plan.append((n, names))
    return plan


def run_all(args: argparse.Namespace, profile: dict, code: dict) -> int:
    phones = [int(x) for x in args.phones.split(",")] if args.phones else profile["phones"]
    systems = args.systems.split(",") if args.systems else profile["systems"]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        raise SystemExit(f"unknown systems: {', '.join(sorted(unknown))}")
    baseline = args.baseline_code["short"] if args.baseline_code else None
    if baseline and not set(systems) & set(APP_SYSTEMS):
        raise SystemExit(f"--baseline needs {' or '.join(APP_SYSTEMS)} among the systems")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else RESULTS_DIR / f"{stamp}.json"
    run_dir = out.parent / f"{out.stem}-logs"
    run_dir.mkdir(parents=True, exist_ok=True)
    if GENERATOR_CORE in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {GENERATOR_CORE})  # keep the orchestrator off the server's core

    results: dict = {
        "command": "python -m bench.run " + " ".join(args.argv),
        "profile": args.profile,
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine.describe(),
        "code": code,
        "baseline": args.baseline_code,
        "database": "postgresql" if args.database_url else "sqlite (WAL, temp dir)",
        "channel_layer": "redis" if args.redis_url else "in-memory",
        "settings": args.settings,
        "timing": profile["timing"],
        "runs": [],
    }
    for n, names in schedule(systems, phones, baseline):
        for key in names:
            print(f"[bench] {key} with {n} phones ...", flush=True)
            record = run_one(key, n, timing=profile["timing"], args=args, run_dir=run_dir, seed=args.seed)
            results["runs"].append(record)
            print(f"[bench]   {evaluate.one_line(record)}", flush=True)
            out.write_text(json.dumps(results, indent=1))
    results["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    results["ratios"] = evaluate.ratios(results["runs"])
    results["before_after"] = compare.before_after(results["runs"]) if baseline else None
    out.write_text(json.dumps(results, indent=1))
    print(f"[bench] results: {out}")
    if args.profile == "full" and not args.no_docs:
        from bench.docsections import keep_sections

        old = DOC.read_text() if DOC.exists() else ""
        # The scenarios run on their own (audience questions, the report) keep their sections.
        DOC.write_text(keep_sections(old, report.render([(results, out)])))
        print(f"[bench] rewrote {DOC}")
    if args.profile == "smoke":
        failures = [f"{r['system']}-{r['phones']}: {p}" for r in results["runs"] for p in r["correctness"]["problems"]]
        for line in failures:
            print(f"[bench] FAIL {line}", flush=True)
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
