"""What the protocol tests compare: replies apart from broadcasts (no Django needed here)."""

BROADCASTS = {"state", "results", "questions", "questions_delta"}


def answer_only(frame: dict) -> dict:
    """A reply as the ack/error contract tests compare it: a vote ack minus the total it carries.

    The total's shape is checked here; its value, in tests/polls/live/test_consumers.py.
    """
    results = frame.pop("results", None) if frame.get("type") == "ack" else None
    if results is not None:
        assert set(results) == {"type", "poll", "total", "version"}, results
        assert results["type"] == "results" and results["poll"] == frame["poll"], results
        assert isinstance(results["total"], int) and isinstance(results["version"], int), results
    return frame
