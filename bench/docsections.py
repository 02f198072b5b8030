"""The hand-kept sections of docs/benchmarks.md that a full `make bench` run must not drop when it
re-renders the page (bench/report.py): for now the audience-questions scenario (bench/questions.py)."""

from __future__ import annotations

BEGIN, END = "<!-- questions-scenario:begin -->", "<!-- questions-scenario:end -->"


def keep_section(old: str, new: str) -> str:
    """`new` (a page bench/report.py rendered) with the questions section of `old` kept."""
    if BEGIN not in old or END not in old or BEGIN in new:
        return new
    section = BEGIN + old.split(BEGIN, 1)[1].split(END, 1)[0] + END + "\n"
    return insert_section(new, section)


def insert_section(text: str, section: str) -> str:
    marker = "\n## Machine and settings"
    head, found, tail = text.partition(marker)
    return head.rstrip("\n") + "\n\n" + section + found + tail if found else text.rstrip("\n") + "\n\n" + section
