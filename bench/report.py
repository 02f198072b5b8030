"""Render docs/benchmarks.md from a results file (filled in below)."""


def render(results: dict, *, results_path) -> str:
    raise NotImplementedError
