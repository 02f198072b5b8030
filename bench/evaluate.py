"""Turn one run's raw measurements into checked figures: correctness, derived metrics, ratios to (a) and (c)."""

from __future__ import annotations

from collections.abc import Callable

from bench.stats import ratio


def _scenarios(record: dict) -> dict:
    return (record.get("generator") or {}).get("scenarios") or {}


def _get(data: dict | None, *path: str):
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def correctness(record: dict) -> dict:
    """Whether the run was correct: everyone joined, acked = counted, nothing doubled, all converged."""
    phones = record["phones"]
    sc = _scenarios(record)
    db = record.get("database") or {}
    counted = db.get("votes")
    problems: list[str] = []
    if record.get("harness_error"):
        problems.append(f"harness: {record['harness_error']}")
    if (record.get("generator") or {}).get("exit_code") not in (0, None):
        problems.append(f"load generator exited with {record['generator']['exit_code']}")
    out: dict = {"counted": counted, "phones": phones}

    join = sc.get("join")
    if not join:
        problems.append("join burst did not complete")
    elif join["connected"] != phones:
        problems.append(f"join burst: {join['connected']}/{phones} phones connected ({join['errors']})")

    vote = sc.get("vote")
    if not vote or "acked" not in vote:
        problems.append("vote burst did not complete" + (f": {vote['error']}" if vote and "error" in vote else ""))
    else:
        connected, acked = vote["connected"], vote["acked"]
        out.update(sent=vote["sent"], acked=acked, acked_equals_counted=acked == counted)
        reached = vote["last_total_histogram"].get(str(counted), 0)
        out["share_final_tally"] = round(reached / connected, 4) if connected else 0.0
        if acked != counted:
            problems.append(f"vote burst: acked {acked} != counted {counted}")
        if vote["sent"] != connected or acked != vote["sent"]:
            problems.append(f"vote burst: {connected} phones, {vote['sent']} sent, {acked} acked ({vote['errors']})")
        if db.get("choices") not in (None, counted) or db.get("participants_with_two_votes"):
            problems.append(f"vote burst: doubled ballots ({db})")
        if reached != connected:
            problems.append(f"vote burst: {reached}/{connected} phones reached the final tally {counted}")

    reveal = sc.get("reveal")
    if not reveal:
        problems.append("reveal did not complete")
    else:
        right = reveal["counts_total_histogram"].get(str(counted), 0)
        out["reveal_reached_share"] = round(reveal["reached"] / reveal["connected"], 4) if reveal["connected"] else 0.0
        if reveal["reached"] != reveal["connected"] or right != reveal["connected"]:
            problems.append(
                f"reveal: {reveal['reached']}/{reveal['connected']} got counts, {right} with the counted total"
            )

    storm = sc.get("reconnect")
    if not storm:
        problems.append("reconnect storm did not complete")
    else:
        out["reconnected_share"] = round(storm["reconnected"] / phones, 4)
        out["my_vote_correct_share"] = (
            round(storm["my_vote_correct"] / storm["my_vote_expected"], 4) if storm["my_vote_expected"] else None
        )
        if storm["reconnected"] != phones:
            problems.append(f"reconnect storm: {storm['reconnected']}/{phones} back ({storm['errors']})")
        if storm["my_vote_correct"] != storm["my_vote_expected"]:
            problems.append(
                f"reconnect storm: my_vote right for {storm['my_vote_correct']}/{storm['my_vote_expected']}"
            )
        if storm["state_total_final"] != storm["reconnected"]:
            problems.append(
                f"reconnect storm: {storm['state_total_final']}/{storm['reconnected']} resynced to the final total"
            )
    out["problems"] = problems
    out["ok"] = not problems
    out["server_tracebacks"] = (record.get("server_log") or {}).get("tracebacks")
    return out


def _share_final(r: dict):
    return _get(r, "correctness", "share_final_tally")


def _reveal_rate(r: dict):
    """Phones that got the revealed counts per second, up to the last of them (a fan-out delivery rate)."""
    reveal = _scenarios(r).get("reveal") or {}
    last = _get(reveal, "reveal_latency", "max_ms")
    return round(reveal["reached"] / (last / 1000)) if last else None


def _us_per_frame(r: dict):
    """Server CPU µs per frame delivered to phones during the vote burst (results and acks)."""
    vote = _scenarios(r).get("vote") or {}
    if "acked" not in vote:
        return None
    frames = vote["results_frames_per_phone"] * vote["connected"] + vote["acked"]
    return round(1e6 * vote["server_cpu_s"] / frames, 1) if frames else None


def _s(*path: str) -> Callable[[dict], object]:
    return lambda r: _get(_scenarios(r), *path)


# (key, label, getter, higher_is_better)
METRICS: list[tuple[str, str, Callable[[dict], object], bool]] = [
    ("join_connected", "join: phones connected", _s("join", "connected"), True),
    ("join_refused", "join: refused (first attempt)", _s("join", "refused_first_attempt"), False),
    ("join_p99_ms", "join: p99 connect→state (ms)", _s("join", "join_latency", "p99_ms"), False),
    ("join_cpu_per_1000", "join: server CPU s per 1,000 phones", _s("join", "server_cpu_s_per_1000_phones"), False),
    ("rss_per_1000", "join: peak RSS MB per 1,000 phones", _s("join", "server_rss_peak_per_1000_mb"), False),
    ("rss_added_per_1000", "join: RSS added MB per 1,000 phones", _s("join", "server_rss_added_per_1000_mb"), False),
    ("ack_p50_ms", "vote: p50 ack (ms)", _s("vote", "ack_latency", "p50_ms"), False),
    ("ack_p95_ms", "vote: p95 ack (ms)", _s("vote", "ack_latency", "p95_ms"), False),
    ("ack_p99_ms", "vote: p99 ack (ms)", _s("vote", "ack_latency", "p99_ms"), False),
    ("v2s_p50_ms", "vote: p50 vote-to-screen (ms)", _s("vote", "vote_to_screen", "p50_ms"), False),
    ("v2s_p99_ms", "vote: p99 vote-to-screen (ms)", _s("vote", "vote_to_screen", "p99_ms"), False),
    ("v2b_p99_ms", "vote: p99 vote-to-broadcast on phones (ms)", _s("vote", "vote_to_broadcast", "p99_ms"), False),
    ("v2c_p50_ms", "vote: p50 vote-to-console (ms)", _s("vote", "vote_to_console", "p50_ms"), False),
    ("v2c_p99_ms", "vote: p99 vote-to-console (ms)", _s("vote", "vote_to_console", "p99_ms"), False),
    ("share_final", "vote: share on final tally", _share_final, True),
    ("vote_cpu_pct", "vote: server CPU % of a core", _s("vote", "server_cpu_pct_of_core"), False),
    ("us_per_frame", "vote: server CPU µs per delivered frame", _us_per_frame, False),
    ("reveal_last_ms", "reveal: to last phone (ms)", _s("reveal", "reveal_to_last_phone_ms"), False),
    ("reveal_rate", "reveal: phones reached per s", _reveal_rate, True),
    ("resync_p99_ms", "reconnect: p99 resync (ms)", _s("reconnect", "resync_latency", "p99_ms"), False),
    ("reconnected", "reconnect: phones back", _s("reconnect", "reconnected"), True),
    ("storm_refused", "reconnect: refused (first attempt)", _s("reconnect", "refused_first_attempt"), False),
]


def metrics(record: dict) -> dict:
    return {key: getter(record) for key, _, getter, _ in METRICS}


def ratios(runs: list[dict]) -> dict:
    """Per phone count, per system: each metric with its ratio to (a) naive and (c) ceiling."""
    table: dict = {}
    by_n: dict[int, dict[str, dict]] = {}
    for r in runs:
        by_n.setdefault(r["phones"], {})[r["system"]] = metrics(r)
    for n, systems in by_n.items():
        naive, ceiling = systems.get("naive", {}), systems.get("ceiling", {})
        table[str(n)] = {
            system: {
                key: {
                    "value": value,
                    "vs_naive": ratio(value, naive.get(key)),
                    "vs_ceiling": ratio(value, ceiling.get(key)),
                }
                for key, value in values.items()
            }
            for system, values in systems.items()
        }
    return table


def one_line(record: dict) -> str:
    c = record["correctness"]
    m = metrics(record)
    status = "ok" if c["ok"] else "PROBLEMS: " + "; ".join(c["problems"])
    return (
        f"joined {m['join_connected']} acked {c.get('acked')} counted {c.get('counted')}"
        f" final-share {c.get('share_final_tally')}"
        f" ack p99 {m['ack_p99_ms']} ms v2s p99 {m['v2s_p99_ms']} ms reveal {m['reveal_last_ms']} ms"
        f" [{record['seconds']} s] {status}"
    )
