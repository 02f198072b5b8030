"""Render docs/benchmarks.md from a results file: command, machine, definitions, tables, targets, discussion.

.venv/bin/python -m bench.report bench/results/<timestamp>.json   # re-render without rerunning
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench import compare, evaluate
from bench.servers import ROOT

DISCUSSION = ROOT / "bench" / "discussion.md"
SYSTEM_ORDER = ["naive", "daphne", "uvicorn", "ceiling"]
SHORT = {"naive": "(a) naive", "daphne": "(b) daphne", "uvicorn": "(b) uvicorn", "ceiling": "(c) ceiling"}

TABLES = [
    (
        "Join burst",
        ["join_connected", "join_refused", "join_p99_ms", "join_cpu_per_1000", "rss_per_1000", "rss_added_per_1000"],
    ),
    ("Vote burst: acks", ["ack_p50_ms", "ack_p95_ms", "ack_p99_ms", "vote_cpu_pct", "us_per_frame"]),
    ("Vote burst: screens", ["v2s_p50_ms", "v2s_p99_ms", "v2b_p99_ms", "v2c_p50_ms", "v2c_p99_ms", "share_final"]),
    ("Reveal and reconnect storm", ["reveal_last_ms", "reveal_rate", "resync_p99_ms", "reconnected", "storm_refused"]),
]
LABELS = {key: label for key, label, _, _ in evaluate.METRICS}


def short(system: str) -> str:
    """A system's column label; a baseline run (`daphne@7d6a9eb`) is labelled with its commit."""
    key, _, rev = system.partition("@")
    return f"{SHORT[key]} @{rev}" if rev else SHORT[key]


DEFINITIONS = """\
- **phones connected**: phones holding an open socket that received its first `state`. A phone
  whose attempt fails retries like `static/js/live.js` (0.5 s doubling to 15 s, ±50% jitter) until
  `retry_window_s` after the last scheduled dial; **refused (first attempt)** counts phones whose
  first attempt failed. Connect→state runs from a phone's first dial to its first `state`, retries
  included. Failures are
  counted by kind: `closed_during_handshake` (`handshake_failed` in older results) means the server
  dropped the connection before answering the upgrade, which daphne does when the application has
  not accepted the socket within its `--websocket_connect_timeout` (5 s by default);
  `TimeoutError` means no `state` within the open timeout; `http_NNN` a refused upgrade.
- **sent / acked / counted**: phones that sent their vote; votes answered with an `ack` (a vote
  answered `unavailable` is resent with the same `ref`, as the protocol asks); `Vote` rows in the
  database afterwards (for the ceiling: ballots in its memory). Acked must equal counted.
- **ack latency**: from sending the vote to receiving its `ack` (including any resend). A phone
  waits `ack_timeout_s` at most; a vote still unanswered then is counted as `ack_timeout` (it may
  still be recorded: compare with counted).
- **vote-to-screen**: from sending the vote until the phone shows a total that includes it.
  Caseboard's `ack` carries the poll's total read right after the ballot was written, so there it
  is the ack latency; for the naive baseline and the ceiling (acks without a total) it is the
  vote-to-broadcast time below.
- **vote-to-broadcast on phones**: from sending the vote to the first broadcast `results` frame
  (or `state` carrying `results`) on the same phone that *provably* includes it: a frame whose
  `version` (the server's wall clock in µs, taken before the tally was read; server and generator
  share one clock) is later than the moment the phone received its ack, or a frame whose total
  already equals the final tally. It is an upper bound: a frame read between the commit and the
  ack also held the vote but is not credited. This is how soon the *other* phones see a vote.
- **vote-to-console**: the same, measured on the moderator's console socket: how soon a vote
  shows on the screens of the room (the presenter screen gets the same frames, at the same time).
- **share on final tally**: connected phones whose newest `results` total equals the counted
  total once the burst settled (the generator waits up to `settle_timeout_s` for that).
- **reveal to last phone**: from the moderator sending `reveal_results` (after `close_poll` was
  acked) until the last connected phone holds a frame with `counts` (a `results` frame, or the
  `results` inside a `state` frame); "phones reached per s" is phones ÷ that time.
- **reconnect storm**: every phone's socket is aborted at once (no closing handshake, like a lost
  network), then all rejoin at jittered times within `reconnect_spread_s`, retrying as in the join
  burst; resync time is first dial to the first `state`, which must carry the phone's own ballot
  (`my_vote`) and the final total.
- **server CPU**: user + system seconds of the server process and its children (psutil) over the
  scenario, as % of one core or seconds per 1,000 phones. **Peak RSS per 1,000 phones** divides the
  whole process's peak RSS (Django and all) by thousands of phones; **RSS added** subtracts the
  RSS before the first phone connected.
- **server CPU µs per delivered frame**: vote-burst server CPU ÷ frames received by phones (results
  and acks); it includes writing the votes, so it is not a pure fan-out cost.
- **×a / ×c**: the figure divided by the same figure of (a) the naive baseline and (c) the ceiling
  at the same phone count. For latencies and costs lower is better; for counts and rates higher is.
- **generator saturated**: the load generator used ≥ 90% of its core over a scenario;
  **contended**: other processes on the machine used ≥ 20% of a core during the scenario (the
  machine is shared with other work; in PostgreSQL runs this also counts the database server's own
  processes, which do work for the system under test).
"""


def fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if value == int(value) and abs(value) >= 100:
            return f"{int(value):,}"
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def cell(entry: dict, system: str) -> str:
    parts = [fmt(entry["value"])]
    if entry["value"] is not None:
        if system != "naive" and entry["vs_naive"] is not None:
            parts.append(f"{entry['vs_naive']:g}×a")
        if system != "ceiling" and entry["vs_ceiling"] is not None:
            parts.append(f"{entry['vs_ceiling']:g}×c")
    return " · ".join(parts)


def _runs(results: dict) -> list[dict]:
    """Runs by phone count and system; a baseline run right above the current run of its system."""
    order = {key: i for i, key in enumerate(SYSTEM_ORDER)}

    def rank(r: dict) -> tuple:
        key, _, rev = r["system"].partition("@")
        return (r["phones"], order.get(key, 9), 0 if rev else 1)

    return sorted(results["runs"], key=rank)


def machine_section(results: dict) -> list[str]:
    m = results["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    return [
        "## Machine and settings",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram_gb']} GB; kernel {m['kernel']}",
        f"- Python {m['python']}, SQLite {m['sqlite']}; {packages}",
        "- Server pinned to core 0, load generator and harness pinned to core 1 with taskset. The generator is"
        " one asyncio process on uvloop driving the `websockets` library's sans-I/O client protocol from"
        " callbacks (`bench/wsclient.py`; the library's asyncio client cost ~40 µs of generator CPU per"
        " received frame, too much for 5,000 phones on one core), without compression or client pings;"
        " file-descriptor limit raised to the hard limit in both. Django runs with `DEBUG=false`; daphne"
        " with `-v 0` (no access log),"
        " uvicorn with `--no-access-log --lifespan off`; the ceiling runs on uvloop. Server and generator run"
        " at nice -10 so that other work on a shared machine disturbs them less (it is still measured, below).",
        "",
    ]


def settings_lines(results: dict, shown_path) -> list[str]:
    t = results["timing"]
    code = results.get("code") or {}
    return [
        f"- Command `{results['command']}`, started {results['started']}, finished {results.get('finished', '—')};"
        f" raw results in `{shown_path}` (gitignored; server logs beside it).",
        f"- Code measured: {code.get('source', '?')} at `{(code.get('commit') or '?')[:12]}`.",
        *compare.baseline_lines(results),
        f"- Database: {results['database']}; channel layer: {results['channel_layer']};"
        f" settings `{results.get('settings', 'caseboard.settings')}`.",
        f"- Timings: join spread {t['join_spread_s']} s, vote window {t['vote_window_s']} s, reconnect spread"
        f" {t['reconnect_spread_s']} s, open timeout {t['open_timeout_s']} s, ack timeout {t['ack_timeout_s']} s,"
        f" settle timeout {t['settle_timeout_s']} s, reveal timeout {t['reveal_timeout_s']} s.",
        "",
    ]


def correctness_section(results: dict) -> list[str]:
    lines = [
        "### Correctness",
        "",
        "| phones | system | connected | sent / acked / counted | on final tally | reveal reached"
        " | reconnected | `my_vote` right | server tracebacks | problems |",
        "|---:|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in _runs(results):
        c = r["correctness"]
        sc = (r.get("generator") or {}).get("scenarios") or {}
        vote = sc.get("vote") or {}
        problems = "; ".join(c["problems"]) or "none"
        lines.append(
            f"| {r['phones']:,} | {short(r['system'])} | {fmt((sc.get('join') or {}).get('connected'))}"
            f" | {fmt(vote.get('sent'))} / {fmt(vote.get('acked'))} / {fmt(c.get('counted'))}"
            f" | {pct(c.get('share_final_tally'))} | {pct(c.get('reveal_reached_share'))}"
            f" | {pct(c.get('reconnected_share'))} | {pct(c.get('my_vote_correct_share'))}"
            f" | {fmt(c.get('server_tracebacks'))} | {problems} |"
        )
    return [*lines, ""]


def pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def metric_tables(results: dict) -> list[str]:
    ratios = results["ratios"]
    lines = ["### Figures", "", "Each cell: the figure · its ratio to (a) naive · its ratio to (c) ceiling.", ""]
    for title, keys in TABLES:
        lines += [f"#### {title}", "", "| phones | system | " + " | ".join(LABELS[k] for k in keys) + " |"]
        lines.append("|---:|---|" + "---:|" * len(keys))
        for r in _runs(results):
            row = ratios[str(r["phones"])][r["system"]]
            cells = " | ".join(cell(row[k], r["system"]) for k in keys)
            lines.append(f"| {r['phones']:,} | {short(r['system'])} | {cells} |")
        lines.append("")
    return lines


def conditions_section(results: dict) -> list[str]:
    lines = [
        "### Run conditions",
        "",
        "| phones | system | other load before run (% core) | contended scenarios | generator saturated"
        " | generator peak CPU % | max generator loop lag (ms) |",
        "|---:|---|---:|---|---|---:|---:|",
    ]
    for r in _runs(results):
        sc = (r.get("generator") or {}).get("scenarios") or {}
        contended = [k for k, v in sc.items() if v.get("contended")] or ["none"]
        saturated = [k for k, v in sc.items() if v.get("generator_saturated")] or ["none"]
        peak = max((v.get("generator_cpu_max_pct", 0) for v in sc.values()), default=None)
        lag = max((v.get("generator_loop_lag_max_ms", 0) for v in sc.values()), default=None)
        before = (r.get("machine_before") or {}).get("background_cpu_pct")
        lines.append(
            f"| {r['phones']:,} | {short(r['system'])} | {fmt(before)} | {', '.join(contended)}"
            f" | {', '.join(saturated)} | {fmt(peak)} | {fmt(lag)} |"
        )
    return [*lines, ""]


def targets_section(results: dict) -> list[str]:
    """The issue's targets, checked against Caseboard's runs at the largest phone count measured."""
    runs = [r for r in results["runs"] if r["system"] in ("daphne", "uvicorn")]
    if not runs:
        return []
    top = max(r["phones"] for r in runs)
    lines = [
        f"### Targets at {top:,} phones",
        "",
        "| target | (b) daphne | (b) uvicorn |",
        "|---|---|---|",
    ]
    table = results["ratios"][str(top)]

    def value(system: str, key: str):
        return (table.get(system) or {}).get(key, {}).get("value")

    def check(system: str, key: str, test, shown=None) -> str:
        if system not in table:
            return "not run"
        v = value(system, key)
        if v is None:
            return "✗ no value"
        return f"{'✓' if test(v) else '✗'} {shown(v) if shown else fmt(v)}"

    def by_run(system: str, test) -> str:
        run = next((r for r in runs if r["system"] == system and r["phones"] == top), None)
        return "not run" if run is None else test(run)

    def counts(run: dict) -> str:
        c = run["correctness"]
        ok = c.get("acked_equals_counted") and not any("doubled" in p for p in c["problems"])
        return f"{'✓' if ok else '✗'} acked {fmt(c.get('acked'))}, counted {fmt(c.get('counted'))}"

    naive_reached = next(
        (r["generator"]["scenarios"].get("reveal", {}).get("reached") for r in results["runs"]
         if r["system"] == "naive" and r["phones"] == top and r.get("generator")),
        None,
    )  # fmt: skip

    def rate(system: str, key: str, versus: str, factor: float) -> str:
        entry = (table.get(system) or {}).get("reveal_rate")
        if system not in table:
            return "not run"
        if entry and entry["value"] and key == "vs_naive" and naive_reached == 0:
            return f"✓ {fmt(entry['value'])}/s; the naive baseline reached no phone"
        if not entry or entry[key] is None:
            return "✗ no value"
        return f"{'✓' if entry[key] >= factor else '✗'} {entry[key]:g}× {versus}"

    rows = [
        ("every phone connected in the join burst", lambda s: check(s, "join_connected", lambda v: v == top)),
        ("… with no refused connection (first attempts)", lambda s: check(s, "join_refused", lambda v: v == 0)),
        ("join burst: p99 connect→state ≤ 30 s", lambda s: check(s, "join_p99_ms", lambda v: v <= 30000, ms)),
        (
            "≤ 40 MB RSS per 1,000 connections (RSS the connections added)",
            lambda s: check(s, "rss_added_per_1000", lambda v: v <= 40, mb),
        ),
        (
            "… and whole-process peak RSS ÷ thousands of phones",
            lambda s: check(s, "rss_per_1000", lambda v: v <= 40, mb),
        ),
        ("0 lost, 0 doubled votes (acked = counted)", lambda s: by_run(s, counts)),
        ("p99 ack ≤ 1 s", lambda s: check(s, "ack_p99_ms", lambda v: v <= 1000, ms)),
        (
            "p99 vote-to-screen ≤ 1 s (the voter's own phone: its ack's total)",
            lambda s: check(s, "v2s_p99_ms", lambda v: v <= 1000, ms),
        ),
        (
            "… p99 vote-to-broadcast on phones ≤ 1 s (how soon the other phones see it)",
            lambda s: check(s, "v2b_p99_ms", lambda v: v <= 1000, ms),
        ),
        ("… p99 vote-to-console ≤ 1 s (the room's screens)", lambda s: check(s, "v2c_p99_ms", lambda v: v <= 1000, ms)),
        ("every phone on the final tally", lambda s: check(s, "share_final", lambda v: v == 1.0, pct)),
        ("reveal reaches every phone in ≤ 1 s", lambda s: check(s, "reveal_last_ms", lambda v: v <= 1000, ms)),
        ("reveal delivery rate ≥ 3× naive", lambda s: rate(s, "vs_naive", "naive", 3.0)),
        (
            "reveal delivery rate ≥ 25% (daphne) / 50% (uvicorn) of the ceiling",
            lambda s: rate(s, "vs_ceiling", "ceiling", 0.25 if s == "daphne" else 0.5),
        ),
    ]
    for label, fn in rows:
        lines.append(f"| {label} | {fn('daphne')} | {fn('uvicorn')} |")
    return [*lines, ""]


def ms(v) -> str:
    return f"{fmt(v)} ms"


def mb(v) -> str:
    return f"{fmt(v)} MB"


def discussion_section() -> list[str]:
    if not DISCUSSION.exists():
        return []
    text = DISCUSSION.read_text().strip()
    return ["## Discussion", "", text, ""]


def run_section(results: dict, results_path: Path) -> list[str]:
    try:
        shown_path = Path(results_path).resolve().relative_to(ROOT)
    except ValueError:
        shown_path = Path(results_path).name
    title = f"{results['database'].split(' ')[0]}, {results['channel_layer']} channel layer"
    if results.get("settings", "caseboard.settings") != "caseboard.settings":
        title += f", settings `{results['settings']}` (experiment)"
    return [
        f"## Run: {title}",
        "",
        *settings_lines(results, shown_path),
        *targets_section(results),
        *compare.section(results, label=lambda key: SHORT[key], fmt=fmt),
        *correctness_section(results),
        *metric_tables(results),
        *conditions_section(results),
    ]


def render(runs: list[tuple[dict, Path]]) -> str:
    """The whole page for one or more results files (e.g. a SQLite and a PostgreSQL run)."""
    first = runs[0][0]
    lines = [
        "# Benchmarks",
        "",
        "Caseboard against (a) a naive Channels implementation of the same protocol, and (c) a bare"
        " `websockets` broadcast server, in the same run, on one machine, talking only to 127.0.0.1.",
        "This file is generated from results files (`bench/report.py`); every number below comes from the"
        " runs it names.",
        "",
        "## Command",
        "",
        "```sh",
        "make bench                                   # full profile: 500, 1,000, 2,000, 5,000 phones, all systems",
        "make bench BENCH_ARGS='--phones 500,1000'    # any subset; --systems naive,daphne,uvicorn,ceiling",
        "make bench BENCH_ARGS='--database-url postgres://postgres@127.0.0.1:5432/caseboard_bench'",
        "make bench BENCH_ARGS='--phones 2000,5000 --systems naive,daphne,uvicorn,ceiling --baseline 7d6a9eb'",
        "                                             # also daphne and uvicorn at commit 7d6a9eb, side by side",
        "make bench-smoke                             # 300 phones, daphne only, correctness only (CI)",
        "make bench BENCH_ARGS='--scenario questions' # audience questions: 2,000 phones, 200 questions, 5,000 upvotes",
        ".venv/bin/python -m bench.report A.json [B.json]   # re-render this page from results files",
        "```",
        "",
        "A full run rewrites this page from its own results. Each server run is bounded (about three"
        " minutes at most); the full profile takes about 25 minutes on this machine (each run below"
        " gives its start and finish).",
        "",
        *machine_section(first),
        "## Systems",
        "",
        "- **(a) naive**: `bench/naive/`, daphne. Every consumer joins the event group; each vote is"
        " written, counted with SQL and sent with `group_send` to every consumer, which serialises it"
        " itself; each connection builds its own snapshot.",
        "- **(b) Caseboard**: `caseboard.asgi:application` unchanged, on daphne (through"
        " `python -m caseboard.serve`, as `make run` and `make cluster` serve it) and on uvicorn.",
        "- **(c) ceiling**: `bench/ceiling.py`, plain `websockets` on uvloop, ballots in a dict, results"
        " coalesced like Caseboard (at most one frame per 0.25 s, one final frame) and serialised once.",
        "- **@commit** (with `--baseline REV`): Caseboard at an older commit, run from its own snapshot beside"
        " the current code, e.g. `(b) daphne @7d6a9eb`.",
        "",
        "## Scenarios and definitions",
        "",
        "Join burst (all phones connect at pre-drawn times within the join spread), vote burst (the moderator"
        " opens the poll; each phone votes at a pre-drawn time within the vote window, once it has seen the"
        " poll open), reveal (close, then reveal), reconnect storm. The same seed draws the same times and"
        " choices for every system. Every wait has a timeout; one generator run is killed after"
        " 300 s at most.",
        "",
        DEFINITIONS,
    ]
    for results, path in runs:
        lines += run_section(results, path)
    lines += discussion_section()
    return "\n".join(lines).rstrip() + "\n"


def load(path: Path) -> dict:
    results = json.loads(Path(path).read_text())
    for record in results["runs"]:  # re-derive: the raw measurements are the source of truth
        record["correctness"] = evaluate.correctness(record)
    results["ratios"] = evaluate.ratios(results["runs"])
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.report")
    parser.add_argument("results", nargs="+", help="results files, rendered in this order")
    parser.add_argument("--doc", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    Path(args.doc).write_text(render([(load(Path(p)), Path(p)) for p in args.results]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
