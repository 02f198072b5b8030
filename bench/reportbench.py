"""The report scenario of `make bench`: an event of 2,000 participants and 20 polls, its report page,
PDF, CSV and workbook, timed through the real views, with each process's peak memory.

    .venv/bin/python -m bench.reportbench [--participants 500,2000] [--polls 20] [--repeat 3] [--no-docs]

Each size runs in a fresh process (`--child`) on a scratch SQLite database in a temp dir, seeded
directly (bulk rows, as `bench/dbprep.py` seeds the live scenarios): every poll closed with every
participant's ballot, profiles for the splits, a second round, a panel, approved free text. The
process then fetches each URL as the event's moderator through Django's test client, `--repeat`
times, and reports the median and the peak resident memory (ru_maxrss) after each kind of file.
Targets (issue 14): page ≤ 2 s and PDF ≤ 10 s at 2,000 participants, memory bounded (the growth
from 500 to 2,000 participants is given). The figures go into their own section of
docs/benchmarks.md between markers; the rest of that page is left as it is (`--no-docs`: not at all).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import docsections

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
START, END = docsections.REPORT.begin, docsections.REPORT.end
URLS = [("page", "event-report"), ("pdf", "event-report-pdf"), ("csv", "event-export"), ("xlsx", "event-export-xlsx")]
KINDS = ["single", "single", "multi", "likert", "numeric", "ranking", "single", "likert", "text", "numeric"]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(participants: int, polls: int, rng: random.Random):
    """The event, written straight to the database (authoring and ballots in bulk)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from cases.models import Case, Reference, TeachingPoint, TherapyLine
    from polls.models import (
        AgendaItem,
        AnswerStatus,
        Event,
        EventStatus,
        Option,
        Participant,
        Poll,
        TeachingPointReveal,
        Vote,
        VoteChoice,
    )
    from polls.profiles import PROFILE_QUESTIONS

    user = get_user_model().objects.create_user(username="bench-moderator")  # force_login: no password
    case = Case.objects.create(
        title="Bench case", disease="Multiple myeloma", patient_age=70, patient_sex="male",
        diagnosis="IgG-lambda multiple myeloma", years_since_diagnosis=6, ecog=1,
    )  # fmt: skip
    TherapyLine.objects.create(case=case, line_number=1, regimen="VRd", agents="bortezomib, lenalidomide")
    for n in range(5):
        point = TeachingPoint.objects.create(case=case, position=n, title=f"Point {n}", text="Evidence. " * 20)
        Reference.objects.create(teaching_point=point, citation=f"Trial {n}", nct=f"NCT0000000{n}")
    event = Event.objects.create(
        title="Report bench", code="RBENCH", status=EventStatus.ENDED, profile_fields=list(PROFILE_QUESTIONS)
    )
    event.moderators.add(user)
    AgendaItem.objects.create(event=event, case=case, position=1)
    people = Participant.objects.bulk_create(
        [
            Participant(event=event, profile={k: rng.choice(q["options"]) for k, q in PROFILE_QUESTIONS.items()})
            for _ in range(participants)
        ]
    )
    faculty = []
    for n in range(5):
        member = get_user_model().objects.create_user(username=f"bench-faculty-{n}")
        event.panelists.add(member)
        faculty.append(Participant.objects.create(event=event, user=member, is_panelist=True))
    opened = timezone.now() + timezone.timedelta(seconds=1)
    root = None
    for index in range(polls):
        kind = KINDS[index % len(KINDS)]
        labels = [] if kind in ("numeric", "text") else [f"Answer {i + 1} of poll {index + 1}" for i in range(5)]
        poll = Poll.objects.create(
            event=event, case=case, position=index, kind=kind, question=f"Question {index + 1} ({kind})?",
            state="closed", results_visible=True, opened_at=opened, closed_at=opened, ask_confidence=kind == "single",
            numeric_min=0 if kind == "numeric" else None, numeric_max=24 if kind == "numeric" else None,
            numeric_unit="months" if kind == "numeric" else "", preferred_rationale="Because." if labels else "",
            round_of=root if index == 6 else None, round_number=2 if index == 6 else 1,
        )  # fmt: skip
        if index == 0:
            root = poll
        options = Option.objects.bulk_create(
            [Option(poll=poll, label=label, position=i, is_preferred=i == 0) for i, label in enumerate(labels)]
        )
        if index == 6:  # the second round asks the first question again: same labels
            Option.objects.filter(poll=poll).delete()
            options = Option.objects.bulk_create(
                [Option(poll=poll, label=o.label, position=o.position, is_preferred=o.is_preferred)
                 for o in root.options.all()]
            )  # fmt: skip
        voters = people + (faculty if labels else [])
        votes = Vote.objects.bulk_create(
            [
                Vote(
                    poll=poll,
                    participant=p,
                    value_number=rng.uniform(0, 24) if kind == "numeric" else None,
                    value_text=f"Barrier {rng.randrange(40)} to referral" if kind == "text" else "",
                    text_status=AnswerStatus.APPROVED if kind == "text" and rng.random() < 0.5 else "pending",
                    confidence=rng.randint(1, 5) if kind == "single" else None,
                )
                for p in voters
            ]
        )
        choices = []
        for vote in votes:
            if kind in ("single", "likert"):
                choices.append(VoteChoice(vote=vote, poll=poll, option=rng.choice(options)))
            elif kind == "multi":
                for option in rng.sample(options, 2):
                    choices.append(VoteChoice(vote=vote, poll=poll, option=option))
            elif kind == "ranking":
                for rank, option in enumerate(rng.sample(options, len(options)), start=1):
                    choices.append(VoteChoice(vote=vote, poll=poll, option=option, rank=rank))
        VoteChoice.objects.bulk_create(choices, batch_size=5000)
    for point in TeachingPoint.objects.filter(case=case):
        TeachingPointReveal.objects.create(event=event, teaching_point=point)
    return event, user


def child(participants: int, polls: int, repeat: int) -> dict:
    """In a fresh process with its own scratch database: seed, then fetch each file `repeat` times."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    event, user = seed(participants, polls, random.Random(20251203))
    seeded = time.perf_counter() - started
    client = Client()
    client.force_login(user)
    baseline = _peak_mb()
    load_before = os.getloadavg()[0]
    figures: dict = {
        "participants": participants,
        "polls": polls,
        "seed_s": round(seeded, 2),
        "rss_before_mb": baseline,
    }
    for key, name in URLS:
        times, cpu, size = [], [], 0
        for _ in range(repeat):
            began, began_cpu = time.perf_counter(), time.process_time()
            response = client.get(reverse(name, kwargs={"code": event.code}))
            times.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}")
            size = len(response.content)
        figures[key] = {
            "median_s": round(statistics.median(times), 3),
            "max_s": round(max(times), 3),
            "cpu_s": round(statistics.median(cpu), 3),
            "bytes": size,
            "peak_rss_mb": round(_peak_mb(), 1),
        }
    figures["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    return figures


def run(sizes: list[int], polls: int, repeat: int) -> list[dict]:
    results = []
    for participants in sizes:
        with tempfile.TemporaryDirectory(prefix="caseboard-reportbench-") as scratch:
            env = {
                **os.environ,
                "CASEBOARD_LOCAL": "1",
                "DJANGO_SETTINGS_MODULE": "caseboard.settings",
                "DATABASE_URL": f"sqlite:///{scratch}/db.sqlite3",
                "SECRET_KEY": "report-bench-" + "x" * 40,
            }
            env.pop("REDIS_URL", None)
            command = [sys.executable, "-m", "bench.reportbench", "--child", "--participants", str(participants),
                       "--polls", str(polls), "--repeat", str(repeat)]  # fmt: skip
            print(f"[report-bench] {participants} participants, {polls} polls ...", flush=True)
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)  # noqa: S603
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"[report-bench]   {figures}", flush=True)
            results.append(figures)
    return results


def section(results: list[dict], when: str, machine: str) -> str:
    lines = [
        START,
        "## The event report (issue 14)",
        "",
        f"`python -m bench.reportbench` (run by `make bench`), {when}, {machine}. One process per size on a"
        " scratch SQLite database; each URL fetched through the real view as the event's moderator, the"
        " median of the repeats; peak memory is the process's maximum resident set after that file"
        " (it only grows).",
        "",
        "Each cell: the median wall time of the request, the median CPU time the process spent on it (the"
        " machine's other work slows the first, not the second), and the file's size.",
        "",
        "| participants × polls | page | PDF | CSV | XLSX | peak memory (MB) after page / PDF / CSV / XLSX |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        cells = [f"{r[k]['median_s']:.2f} s, CPU {r[k]['cpu_s']:.2f} s ({r[k]['bytes'] // 1024} KiB)" for k, _ in URLS]
        memory = " / ".join(f"{r[k]['peak_rss_mb']:.0f}" for k, _ in URLS)
        lines.append(f"| {r['participants']:,} × {r['polls']} | " + " | ".join(cells) + f" | {memory} |")
    loads = [x for r in results for x in r.get("load_average", [])]
    if loads:
        lines += [
            "",
            f"One-minute load average during these runs: {min(loads):.1f} to {max(loads):.1f} on"
            f" {os.cpu_count()} cores. Above the core count, wall times stretch by about load ÷ cores;"
            " the CPU times do not.",
        ]
    big = max(results, key=lambda r: r["participants"])
    page, pdf = big["page"]["median_s"], big["pdf"]["median_s"]
    lines += [
        "",
        f"Targets at {big['participants']:,} participants and {big['polls']} polls, on wall time: page ≤ 2 s "
        f"({'met' if page <= 2 else 'NOT met'}: {page:.2f} s), PDF ≤ 10 s ({'met' if pdf <= 10 else 'NOT met'}:"
        f" {pdf:.2f} s); on CPU time: page {big['page']['cpu_s']:.2f} s, PDF {big['pdf']['cpu_s']:.2f} s.",
    ]
    if len(results) > 1:
        small = min(results, key=lambda r: r["participants"])
        lines.append(
            f"Memory from {small['participants']:,} to {big['participants']:,} participants: peak "
            f"{small['xlsx']['peak_rss_mb']:.0f} MB → {big['xlsx']['peak_rss_mb']:.0f} MB. The figures per poll are"
            " aggregates (their size does not grow with the audience); the ballot rows of the CSV are built in"
            " one string, the workbook is written row by row (openpyxl's write-only mode)."
        )
    lines += ["", END]
    return "\n".join(lines)


def write_doc(text: str) -> None:
    """Replace this scenario's section of docs/benchmarks.md, or add it; nothing else changes."""
    docsections.REPORT.write(DOC, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.reportbench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--participants", default="500,2000", help="comma-separated audience sizes")
    parser.add_argument("--polls", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.participants.split(",")]
    if args.child:
        print(json.dumps(child(sizes[0], args.polls, args.repeat)))
        return 0
    results = run(sizes, args.polls, args.repeat)
    from bench import machine

    described = machine.describe()
    cpu = described.get("cpu") or described.get("cpu_model") or "this machine"
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    text = section(results, when, f"{cpu}, {os.cpu_count()} cores (shared with other work)")
    print(text)
    if not args.no_docs:
        write_doc(text)
        print(f"[report-bench] wrote its section of {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
