"""Before / after: a baseline run (`daphne@7d6a9eb`, from `--baseline`) against the current code's run
of the same system at the same phone count, metric by metric, with a verdict that allows for noise.

The metrics are evaluate.py's; each has a kind, and each kind a noise band drawn from the
run-to-run spread docs/benchmarks.md records for unchanged code on this machine (NOISE below).
"""

from __future__ import annotations

from collections.abc import Callable

from bench import evaluate
from bench.stats import ratio

# kind: (factor, floor). Lower-is-better kinds are worse when after > before × factor and the two are
# more than `floor` apart (ms); higher-is-better kinds ("rate", "count") when after < before ÷ factor.
BANDS = {
    "latency": (1.5, 100.0),
    "broadcast": (1.5, 250.0),
    "rate": (1.5, 0.0),
    "cpu": (1.25, 0.0),
    "memory": (1.1, 0.0),
    "count": (1.0, 0.0),
}
LABELS = {key: label for key, label, _, _ in evaluate.METRICS}
HIGHER_IS_BETTER = {"rate", "count"}

COMPARED = [
    ("join_connected", "count"),
    ("join_p99_ms", "latency"),
    ("ack_p50_ms", "latency"),
    ("ack_p95_ms", "latency"),
    ("ack_p99_ms", "latency"),
    ("v2b_p99_ms", "broadcast"),
    ("v2c_p99_ms", "broadcast"),
    ("share_final", "count"),
    ("us_per_frame", "cpu"),
    ("reveal_last_ms", "latency"),
    ("reveal_rate", "rate"),
    ("rss_added_per_1000", "memory"),
    ("reconnected", "count"),
    ("resync_p99_ms", "latency"),
]

NOISE = """\
A figure counts as worse only outside a noise band taken from the spread this page has recorded
for unchanged code on this machine. Latencies and the reveal rate: more than 1.5× apart (daphne's
p99 ack at 5,000 phones was 3.4 s in one run and 1.5–2.7 s in four other runs of the same commit)
and more than 100 ms apart, or 250 ms for vote-to-broadcast and vote-to-console, which move in
steps of the 0.25 s results frame. Server CPU per delivered frame: 1.25× (at 5,000 phones daphne
took 220–267 µs over runs, the unchanged ceiling 23.6–26 µs). RSS the connections added: 1.1×
(30.3–31.4 MB per 1,000 phones in every Caseboard run on SQLite). Phones connected, on the final
tally and back after the storm: no band (a phone lost is worse); a run that fails a correctness
check its baseline passed is worse. Each side is one run, and even 1.5× was exceeded once by
unchanged code (3.4 s against 1.5–2.7 s): a figure marked ✗ calls for running the pair again
before calling it a regression, and a change smaller than its band goes unseen. `--baseline HEAD`
runs the same code on both sides and shows the machine's own spread."""


def worse(kind: str, before, after) -> bool:
    if after is None or before is None:
        return after is None and before is not None
    factor, floor = BANDS[kind]
    if kind in HIGHER_IS_BETTER:
        return after < before / factor
    return after > before * factor and after - before > floor


def before_after(runs: list[dict]) -> list[dict]:
    """Every baseline run paired with the current run of its system at its phone count."""
    current = {(r["phones"], r["system"]): r for r in runs if "@" not in r["system"]}
    pairs = []
    for old in runs:
        key, _, rev = old["system"].partition("@")
        new = current.get((old["phones"], key))
        if not rev or new is None:
            continue
        m_old, m_new = evaluate.metrics(old), evaluate.metrics(new)
        figures = {
            name: {
                "before": m_old[name],
                "after": m_new[name],
                "ratio": ratio(m_new[name], m_old[name]),
                "worse": worse(kind, m_old[name], m_new[name]),
            }
            for name, kind in COMPARED
        }
        ok_old, ok_new = old["correctness"]["ok"], new["correctness"]["ok"]
        reasons = [name for name, f in figures.items() if f["worse"]]
        if ok_old and not ok_new:
            reasons.insert(0, "correctness")
        pairs.append(
            {
                "phones": old["phones"],
                "system": key,
                "baseline": old["system"],
                "rev": rev,
                "figures": figures,
                "correct": {"before": ok_old, "after": ok_new},
                "worse": reasons,
                "verdict": "worse" if reasons else "not worse",
            }
        )
    return sorted(pairs, key=lambda p: (p["phones"], p["system"]))


def baseline_lines(results: dict) -> list[str]:
    base = results.get("baseline")
    if not base:
        return []
    return [
        f"- Baseline (rows marked `@{base['short']}`): {base['source']} at `{base['commit'][:12]}`, run from its own"
        " snapshot: its server, migrations and database seeding (`bench/dbprep.py`), with the same venv, load"
        f" generator and evaluation as the current code. `requirements.txt`: {base.get('requirements.txt', '?')};"
        f" `bench/dbprep.py`: {base.get('bench/dbprep.py', '?')}. At each phone count the two ran back to back,"
        " the baseline first at the 1st, 3rd, … phone count.",
    ]


def section(results: dict, *, label: Callable[[str], str], fmt: Callable[[object], str]) -> list[str]:
    """After ÷ before for each baseline pair, and one verdict line per phone count."""
    pairs = before_after(results["runs"])
    if not pairs:
        return []
    rev = pairs[0]["rev"]
    columns = [(p["phones"], p["system"]) for p in pairs]
    by_column = {(p["phones"], p["system"]): p for p in pairs}
    lines = [
        f"### Before / after: current code ÷ `{rev}`",
        "",
        "Each cell: the current code's figure ÷ the baseline's, at the same phone count in the same run"
        " (both figures are in the tables below); ✗ marks a figure worse than the baseline beyond the noise band.",
        "",
        "| figure | " + " | ".join(f"{n:,}: {label(key)}" for n, key in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for name, _ in COMPARED:
        cells = []
        for column in columns:
            f = by_column[column]["figures"][name]
            shown = "—" if f["ratio"] is None else f"{f['ratio']:g}×"
            if f["ratio"] is None and f["before"] != f["after"]:
                shown = f"{fmt(f['after'])} vs {fmt(f['before'])}"
            cells.append(f"✗ {shown}" if f["worse"] else shown)
        lines.append(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
    lines.append("")
    for n in sorted({p["phones"] for p in pairs}):
        verdicts = []
        for p in (p for p in pairs if p["phones"] == n):
            if not p["worse"]:
                verdicts.append(f"{label(p['system'])} not worse")
                continue
            shown = [
                "fails a check the baseline passed" if name == "correctness" else
                f"{LABELS[name]} {fmt(p['figures'][name]['after'])} vs {fmt(p['figures'][name]['before'])}"
                for name in p["worse"]
            ]  # fmt: skip
            verdicts.append(f"{label(p['system'])} **worse**: {'; '.join(shown)}")
        lines.append(f"- **{n:,} phones**: {'; '.join(verdicts)}.")
    return [*lines, "", NOISE, ""]
