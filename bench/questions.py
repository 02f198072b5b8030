"""The audience-questions scenario: N phones, Q questions and U upvotes within a window, one server.

    .venv/bin/python -m bench.run --scenario questions [--phones 2000] [--no-docs]
    .venv/bin/python -m bench.questions [--phones 2000] [--questions 200] [--upvotes 5000] [--window 60]

Daphne (through caseboard.serve, as `make run` serves) pinned to core 0 on a fresh SQLite database
(or --database-url), the load generator pinned to core 1 (`python -m bench.questions generate`).
Every phone joins; during the window, Q distinct phones each ask one question at a random
moment of its first third, and U upvotes go out at random moments of the window from random
phones, each on a question that phone sees (popular questions drawn more often; one upvote per
phone and question). Every ask and upvote is retried with the same ref on `unavailable`. The
event publishes questions directly: a console approving 200 questions in 20 s would be over its
socket's rate limit (20 frames per 10 s), and no moderator reads that fast; the console follows
the questions and its final list is the reference.

What is checked: acked = stored (every acked ask is a question row, every acked upvote an upvote
row, nothing else), p99 of the acks, and that every phone ends on the final ordering (its last
`questions` frame lists the approved questions in the moderator's final order, with the same
counts). The figures go to docs/benchmarks.md, in its own section (the rest of the page is left
alone), unless --no-docs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import docsections, machine
from bench.docsections import BEGIN, END
from bench.phone import RETRY_CODES, Client, error_name
from bench.servers import GENERATOR_CORE, ROOT, Server, free_port, pinned, system_of
from bench.stats import latency_summary

DOC = ROOT / "docs" / "benchmarks.md"
RESULTS_DIR = ROOT / "bench" / "results"
TIMING = {"join_spread_s": 30, "open_timeout_s": 20, "retry_window_s": 30, "ack_timeout_s": 20, "settle_timeout_s": 60}
RETRY_S = 2.0


# ---------------------------------------------------------------- the generator (core 1)


class QuestionsClient(Client):
    """A phone or the console that also keeps the newest `questions` it received. Phones connect
    as the phone page does (`?questions=delta`) and rebuild the whole list from each
    `questions_delta` as static/js/live.js does (docs/protocol.md)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not kwargs.get("moderator"):
            self.url += "?questions=delta"
        self.questions: dict | None = None
        self.questions_frames = 0
        self.delta_frames = 0
        self.delta_mismatches = 0  # a delta whose base is not the list this phone holds
        self.received_bytes = 0  # every frame's text, as UTF-8
        self.on_questions = None

    def on_text(self, text: str) -> None:
        self.received_bytes += len(text.encode())
        super().on_text(text)

    def whole(self, delta: dict) -> dict | None:
        if self.questions is None:
            return None
        self.delta_frames += 1
        if delta["since"] != self.questions["version"]:
            self.delta_mismatches += 1
        known = {item["id"]: item for item in self.questions["items"]}
        known.update((item["id"], item) for item in delta["items"])
        head = {key: delta[key] for key in ("version", "enabled", "moderated", "names")}
        return {"type": "questions", **head, "items": [known[qid] for qid in delta["order"] if qid in known]}

    def on_frame(self, frame: dict) -> None:
        questions = frame.get("questions") if frame.get("type") == "state" else frame
        if isinstance(questions, dict) and questions.get("type") == "questions_delta":
            questions = self.whole(questions)
        if isinstance(questions, dict) and questions.get("type") == "questions":
            self.questions_frames += 1
            if self.questions is None or questions["version"] >= self.questions["version"]:
                self.questions = questions
                if self.on_questions is not None:
                    self.on_questions(questions)
        super().on_frame(frame)


async def send_until_answered(client: Client, frame: dict, timeout: float) -> dict:
    """Send with one ref until acked or refused for good: {"latency", "reply"} or {"error"}."""
    began = time.monotonic()
    deadline = began + timeout
    retries = 0
    while True:
        answer = await client.request(frame, max(0.1, deadline - time.monotonic()))
        if answer is None:
            return {"error": "closed" if not client.connected else "ack_timeout", "retries": retries}
        now, _, reply = answer
        if reply["type"] == "ack":
            return {"latency": now - began, "reply": reply, "retries": retries}
        if reply.get("code") not in RETRY_CODES or time.monotonic() + RETRY_S > deadline:
            return {"error": reply.get("code"), "retries": retries}
        retries += 1
        await asyncio.sleep(RETRY_S)


def room_order(items: list[dict]) -> list[tuple[int, int]]:
    """(id, votes) of the approved questions in the order the server promises (docs/protocol.md)."""
    shown = [q for q in items if q["state"] == "approved"]
    shown.sort(key=lambda q: (not q["pinned"], q["answered"], -q["votes"], -q["id"]))
    return [(q["id"], q["votes"]) for q in shown]


class Generator:
    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.t = plan["timing"]
        self.phones = [QuestionsClient(plan, key) for key in plan["sessions"]]
        self.console = QuestionsClient(plan, plan["moderator_session"], moderator=True)
        rng = random.Random(plan["seed"])
        n, window = len(self.phones), plan["window_s"]
        self.join_at = [rng.uniform(0, self.t["join_spread_s"]) for _ in range(n)]
        self.askers = rng.sample(range(n), plan["questions"])
        self.ask_at = sorted(rng.uniform(0, window / 3) for _ in self.askers)
        self.upvote_at = sorted(rng.uniform(window / 10, window * 0.95) for _ in range(plan["upvotes"]))
        self.upvoters = [rng.randrange(n) for _ in range(plan["upvotes"])]
        self.rng = random.Random(plan["seed"] + 1)
        self.out: dict = {"phones": n, "questions": plan["questions"], "upvotes": plan["upvotes"], "window_s": window}

    async def connect_all(self) -> dict:
        began = time.monotonic()
        deadline = began + self.t["join_spread_s"] + self.t["retry_window_s"]
        failures: dict[str, int] = {}

        async def one(phone: Client, offset: float) -> None:
            await asyncio.sleep(offset)
            while time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(phone.open(), self.t["open_timeout_s"])
                    return
                except Exception as exc:
                    phone.drop()
                    failures[error_name(exc)] = failures.get(error_name(exc), 0) + 1
                    await asyncio.sleep(self.rng.uniform(0.5, 2.0))

        await asyncio.gather(*(one(p, at) for p, at in zip(self.phones, self.join_at, strict=True)))
        return {
            "connected": sum(p.connected for p in self.phones),
            "seconds": round(time.monotonic() - began, 1),
            "failed_attempts": failures,
        }

    async def window(self) -> dict:
        t0 = time.monotonic()
        asks: list[dict] = []
        upvotes: list[dict] = []
        voted: set[tuple[int, int]] = set()

        async def ask(k: int, phone_index: int, at: float) -> None:
            await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
            frame = {
                "type": "ask",
                "ref": f"ask-{k}",
                "text": f"Question {k} from the room: what about option {k % 7}?",
            }
            asks.append(await send_until_answered(self.phones[phone_index], frame, self.t["ack_timeout_s"]))

        async def upvote(k: int, phone_index: int, at: float) -> None:
            await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
            phone = self.phones[phone_index]
            for _ in range(40):  # a question this phone sees and has not upvoted yet
                seen = [q["id"] for q in (phone.questions or {}).get("items", []) if q["state"] == "approved"]
                fresh = [qid for qid in seen if (phone_index, qid) not in voted]
                if fresh:
                    weights = [1.0 / (rank + 1) for rank in range(len(fresh))]  # popular ones more often
                    question = self.rng.choices(fresh, weights=weights)[0]
                    voted.add((phone_index, question))
                    frame = {"type": "upvote", "ref": f"up-{k}", "question": question}
                    upvotes.append(await send_until_answered(phone, frame, self.t["ack_timeout_s"]))
                    return
                await asyncio.sleep(0.5)
            upvotes.append({"error": "nothing_to_upvote"})

        tasks = [ask(k, i, at) for k, (i, at) in enumerate(zip(self.askers, self.ask_at, strict=True))]
        tasks += [upvote(k, i, at) for k, (i, at) in enumerate(zip(self.upvoters, self.upvote_at, strict=True))]
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - t0

        def summary(results: list[dict]) -> dict:
            errors: dict[str, int] = {}
            for r in results:
                if "error" in r:
                    errors[r["error"]] = errors.get(r["error"], 0) + 1
            return {
                "sent": len(results),
                "acked": sum("latency" in r for r in results),
                "errors": errors,
                "retried": sum(r.get("retries", 0) > 0 for r in results),
                "ack_latency": latency_summary(r["latency"] for r in results if "latency" in r),
            }

        return {
            "elapsed_s": round(elapsed, 1),
            "asks": summary(asks),
            "upvotes": summary(upvotes),
            "all": summary(asks + upvotes),
            "acked_question_ids": sorted(r["reply"]["question"] for r in asks if "latency" in r),
        }

    async def settle(self) -> dict:
        """Wait until every connected phone shows the console's final order and counts."""
        began = time.monotonic()
        deadline = began + self.t["settle_timeout_s"]
        while True:
            final = room_order(self.console.questions["items"]) if self.console.questions else []
            phones = [p for p in self.phones if p.connected]
            on_final = sum(1 for p in phones if p.questions and room_order(p.questions["items"]) == final)
            window = self.out["window"]
            asked, upvoted = window["asks"]["acked"], window["upvotes"]["acked"]
            # No unvotes here: the final list holds every acked question and every acked upvote.
            complete = len(final) == asked and sum(v for _, v in final) == upvoted
            if (complete and on_final == len(phones)) or time.monotonic() > deadline:
                frames = sorted(p.questions_frames for p in phones)
                deltas = sorted(p.delta_frames for p in phones)
                received = sorted(p.received_bytes for p in phones)
                return {
                    "delta_frames_per_phone_median": deltas[len(deltas) // 2] if deltas else 0,
                    "delta_base_mismatches": sum(p.delta_mismatches for p in phones),
                    "received_kb_per_phone_median": round(received[len(received) // 2] / 1024, 1) if received else 0,
                    "final_questions": len(final),
                    "final_upvotes": sum(v for _, v in final),
                    "phones_connected": len(phones),
                    "phones_on_final_order": on_final,
                    "settled_after_s": round(time.monotonic() - began, 1),
                    "questions_frames_per_phone": {
                        "min": frames[0] if frames else 0,
                        "median": frames[len(frames) // 2] if frames else 0,
                        "max": frames[-1] if frames else 0,
                    },
                }
            await asyncio.sleep(0.5)

    async def run(self, out: Path) -> None:
        try:
            await asyncio.wait_for(self.console.open(), self.t["open_timeout_s"])
            self.out["join"] = await self.connect_all()
            self.out["window"] = await self.window()
            self.out["settle"] = await self.settle()
        finally:
            for client in [self.console, *self.phones]:
                client.drop()
            await asyncio.to_thread(out.write_text, json.dumps(self.out, indent=1))


def generate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.questions generate")
    parser.add_argument("--plan", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    plan = json.loads(Path(args.plan).read_text())
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(Generator(plan).run(Path(args.out)))
    return 0


# ---------------------------------------------------------------- the orchestrator


def stored(env: dict, event_id: int) -> dict:
    """What the database holds for the event's questions (read by a process with the server's settings)."""
    code = (
        "import json, django; django.setup()\n"
        "from polls.models import AudienceQuestion, QuestionUpvote\n"
        f"qs = AudienceQuestion.objects.filter(event_id={event_id})\n"
        "print(json.dumps({'questions': qs.count(), 'approved': qs.filter(state='approved').count(),\n"
        "  'ids': sorted(qs.values_list('id', flat=True)),\n"
        f"  'upvotes': QuestionUpvote.objects.filter(question__event_id={event_id}).count()}}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=env["PYTHONPATH"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout)


def evaluate(result: dict) -> list[str]:
    problems = []
    window, settle, db = result.get("window", {}), result.get("settle", {}), result.get("database", {})
    if not window:
        return ["the generator did not finish the window"]
    if window["asks"]["acked"] != db.get("questions") or window["acked_question_ids"] != db.get("ids"):
        problems.append(f"acked asks {window['asks']['acked']} != stored questions {db.get('questions')}")
    if window["upvotes"]["acked"] != db.get("upvotes"):
        problems.append(f"acked upvotes {window['upvotes']['acked']} != stored upvotes {db.get('upvotes')}")
    p99 = window["all"]["ack_latency"].get("p99_ms")
    if p99 is None or p99 > 1000:
        problems.append(f"p99 ack {p99} ms > 1000 ms")
    if settle.get("delta_base_mismatches"):
        problems.append(f"{settle['delta_base_mismatches']} deltas did not apply to the list the phone held")
    if settle.get("phones_on_final_order") != settle.get("phones_connected"):
        problems.append(
            f"{settle.get('phones_on_final_order')} of {settle.get('phones_connected')} phones on the final order"
        )
    if result.get("join", {}).get("connected") != result["phones"]:
        problems.append(f"{result.get('join', {}).get('connected')} of {result['phones']} phones connected")
    return problems


def render(result: dict, path: Path) -> str:
    w, s, db = result["window"], result["settle"], result["database"]
    a, u, every = w["asks"], w["upvotes"], w["all"]
    frames = s["questions_frames_per_phone"]

    def lat(x: dict) -> str:
        return f"{x.get('p50_ms')} / {x.get('p95_ms')} / {x.get('p99_ms')}"

    problems = result["problems"]
    verdict = "**all checks pass**" if not problems else "**checks failed**: " + "; ".join(problems)
    rows = [
        (
            "phones connected",
            f"{result['join']['connected']:,} of {result['phones']:,} ({result['join']['seconds']} s)",
        ),
        ("asks acked / stored as questions", f"{a['acked']} / {db['questions']} (errors: {a['errors'] or 'none'})"),
        ("upvotes acked / stored", f"{u['acked']:,} / {db['upvotes']:,} (errors: {u['errors'] or 'none'})"),
        ("asks and upvotes resent with the same ref", f"{every['retried']}"),
        ("ack latency, asks, p50 / p95 / p99 ms", lat(a["ack_latency"])),
        ("ack latency, upvotes, p50 / p95 / p99 ms", lat(u["ack_latency"])),
        ("ack latency, all, p50 / p95 / p99 ms", lat(every["ack_latency"])),
        ("the window took", f"{w['elapsed_s']} s"),
        (
            "phones on the final ordering",
            f"{s['phones_on_final_order']:,} of {s['phones_connected']:,}, {s['settled_after_s']} s after the last ack",
        ),
        ("final list", f"{s['final_questions']} questions, {s['final_upvotes']:,} upvotes"),
        (
            "`questions` frames per phone (whole or delta), min / median / max",
            f"{frames['min']} / {frames['median']} / {frames['max']} for {a['acked'] + u['acked']:,} changes",
        ),
        ("of which `questions_delta`, median", f"{s.get('delta_frames_per_phone_median', 0)}"),
        ("received per phone, median (every frame)", f"{s.get('received_kb_per_phone_median', '?')} KB"),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    title = f"{result['phones']:,} phones, {result['questions']} questions, {result['upvotes']:,} upvotes"
    background = result["machine_before"].get("background_cpu_pct", "?")
    return f"""{BEGIN}
## Audience questions (issue 13): {title} in {result["window_s"]:g} s

`{result["command"]}` ({result["started"]} to {result["finished"]};
results `{path.relative_to(ROOT)}`), daphne through `caseboard.serve` pinned to core 0,
{result["database_kind"]}, {result["channel_layer"]} channel layer, the generator on core 1. The
event publishes questions directly (`bench/questions.py` says why). Other work on the machine
before the run: {background} % of a core. {verdict}.

| figure | value |
|---|---|
{table}

"Acked = stored": every acked `ask` is a question row and every acked `upvote` an upvote row,
nothing more. "Final ordering": each phone's newest `questions` frame lists the questions in the
console's final order with the same counts. Figures from one run on a shared two-core machine;
the latencies include the generator's own event loop (2,000 phones on one core).
{END}
"""


def write_doc(section: str) -> None:
    docsections.QUESTIONS.write(DOC, section)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["generate"]:
        return generate(argv[1:])
    from bench.run import _python, server_env

    parser = argparse.ArgumentParser(prog="bench.questions", description=__doc__)
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--upvotes", type=int, default=5000)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--seed", type=int, default=20251203)
    parser.add_argument("--quiet-wait", type=float, default=0.0)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else RESULTS_DIR / f"questions-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result: dict = {
        "command": "python -m bench.questions " + " ".join(argv),
        "started": started,
        "phones": args.phones,
        "questions": args.questions,
        "upvotes": args.upvotes,
        "window_s": args.window,
        "database_kind": "PostgreSQL" if args.database_url else "SQLite (WAL, temp dir)",
        "channel_layer": "Redis" if args.redis_url else "in-memory",
        "machine": machine.describe(),
    }
    with tempfile.TemporaryDirectory(prefix="caseboard-bench-questions-") as tmpdir:
        tmp = Path(tmpdir)
        database_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
        env = server_env(database_url, args.redis_url, prefix=f"benchq{int(time.time())}", src=ROOT,
                         settings="caseboard.settings")  # fmt: skip
        _python(["-m", "bench.dbprep", "prepare", "--phones", str(args.phones), "--out", str(tmp / "prep.json")],
                env, timeout=600)  # fmt: skip
        prep = json.loads((tmp / "prep.json").read_text())
        publish_directly = (
            "import django; django.setup()\n"
            "from polls.models import Event\n"
            f"Event.objects.filter(pk={prep['event']}).update(questions_moderated=False)\n"
        )
        subprocess.run([sys.executable, "-c", publish_directly], cwd=ROOT, env=env, check=True)
        result["machine_before"] = machine.wait_quiet(max_wait_s=args.quiet_wait)
        port = free_port()
        server = Server(system_of("daphne"), port=port, env=env, prep=prep, log_path=tmp / "server.log", cwd=ROOT)
        try:
            server.wait_ready()
            plan = {
                **prep,
                "url": f"ws://127.0.0.1:{port}",
                "origin": f"http://127.0.0.1:{port}",
                "seed": args.seed,
                "timing": TIMING,
                "questions": args.questions,
                "upvotes": args.upvotes,
                "window_s": args.window,
            }
            (tmp / "plan.json").write_text(json.dumps(plan))
            argv_gen, preexec = pinned(
                [sys.executable, "-m", "bench.questions", "generate", "--plan", str(tmp / "plan.json"),
                 "--out", str(tmp / "gen.json")],
                GENERATOR_CORE,
            )  # fmt: skip
            subprocess.run(argv_gen, cwd=ROOT, preexec_fn=preexec, timeout=600, check=False)
            result.update(json.loads((tmp / "gen.json").read_text()))
            result["database"] = stored(env, prep["event"])
        finally:
            server.stop()
            result["server_log"] = server.log_summary()
    result["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    result["problems"] = evaluate(result)
    out.write_text(json.dumps(result, indent=1))
    print(f"[bench] questions: {json.dumps(result['problems']) if result['problems'] else 'all checks pass'}")
    print(f"[bench] results: {out}")
    if not args.no_docs and "window" in result:
        write_doc(render(result, out))
        print(f"[bench] updated the questions section of {DOC}")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
