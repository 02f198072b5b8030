"""The sections of docs/benchmarks.md that a scenario run on its own writes, between its markers,
and that a full `make bench` run keeps when it re-renders the rest of the page (bench/report.py).

One place for the rule, so that every scenario (audience questions, the report) is kept the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Section:
    begin: str
    end: str

    def block(self, text: str) -> str | None:
        """This section of `text` with its markers, or None."""
        if self.begin not in text or self.end not in text:
            return None
        return self.begin + text.split(self.begin, 1)[1].split(self.end, 1)[0] + self.end

    def replace(self, text: str, block: str) -> str:
        """`text` with this section replaced by `block`, or `block` placed before the machine notes."""
        if self.block(text) is not None:
            head, rest = text.split(self.begin, 1)
            return head + block + rest.split(self.end, 1)[1]
        return insert_section(text, block + "\n")

    def write(self, doc: Path, block: str) -> None:
        doc.write_text(self.replace(doc.read_text() if doc.exists() else "", block))


QUESTIONS = Section("<!-- questions-scenario:begin -->", "<!-- questions-scenario:end -->")
REPORT = Section("<!-- report-bench:start -->", "<!-- report-bench:end -->")
SCENARIOS = (QUESTIONS, REPORT)

# The questions scenario's markers under their first names (bench/questions.py).
BEGIN, END = QUESTIONS.begin, QUESTIONS.end


def keep_sections(old: str, new: str) -> str:
    """`new` (a page bench/report.py rendered) with every scenario section of `old` kept."""
    for section in SCENARIOS:
        block = section.block(old)
        if block is not None and section.block(new) is None:
            new = section.replace(new, block)
    return new


def insert_section(text: str, section: str) -> str:
    marker = "\n## Machine and settings"
    head, found, tail = text.partition(marker)
    return head.rstrip("\n") + "\n\n" + section + found + tail if found else text.rstrip("\n") + "\n\n" + section
