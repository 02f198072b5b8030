"""docs/benchmarks.md: a full bench run re-renders the page and keeps each scenario's own section."""

from bench.docsections import QUESTIONS, REPORT, keep_sections


def page(*blocks: str) -> str:
    return "# Benchmarks\n\nrendered figures\n\n" + "\n\n".join(blocks) + "\n## Machine and settings\n\ncpu\n"


def test_a_re_rendered_page_keeps_every_scenario_section():
    questions = f"{QUESTIONS.begin}\nquestions figures\n{QUESTIONS.end}"
    report = f"{REPORT.begin}\nreport figures\n{REPORT.end}"
    kept = keep_sections(page(questions, report), page())
    assert QUESTIONS.block(kept) == questions and REPORT.block(kept) == report
    assert kept.index(report) < kept.index("## Machine and settings")
    assert keep_sections(kept, kept) == kept  # nothing twice


def test_a_scenario_replaces_only_its_own_section():
    old = page(f"{QUESTIONS.begin}\nold\n{QUESTIONS.end}", f"{REPORT.begin}\nkeep me\n{REPORT.end}")
    new = QUESTIONS.replace(old, f"{QUESTIONS.begin}\nnew\n{QUESTIONS.end}")
    assert "new" in new and "old" not in new and "keep me" in new
