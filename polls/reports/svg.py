"""Server-rendered SVG charts in the projector's style (static/css/charts.css): teal bars on a grey
track, the preferred answer in green, and every bar's number written beside it, so colour never
carries the figure alone. Every text is escaped; the charts are decoration next to the tables."""

from __future__ import annotations

from typing import Any

from django.utils import formats
from django.utils.html import escape
from django.utils.translation import gettext, pgettext

from caseboard.i18n import format_percent

BAR = "#2a7f88"
BAR_TOP = "#0d5c63"
TRACK = "#e4e9ee"
OK = "#146338"
INK = "#16202a"
MUTED = "#56616d"
WIDTH = 640
ROW = 34
LABEL_WIDTH = 250
VALUE_WIDTH = 110
MAX_LABEL = 38


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def bars(rows: list[tuple[str, float, str, bool]], *, title: str) -> str:
    """Horizontal bars: (label, fraction 0..1, value text, highlighted) per row."""
    track = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = ROW * len(rows) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}">'
    ]
    for i, (label, fraction, value, highlighted) in enumerate(rows):
        y = 4 + i * ROW
        fill = OK if highlighted else BAR
        width = max(0.0, min(1.0, fraction)) * track
        parts.append(
            f'<text x="0" y="{y + 21}" font-size="13" fill="{INK}">{escape(_clip(label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 6}" width="{track}" height="20" rx="4" fill="{TRACK}"/>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 6}" width="{width:.1f}" height="20" rx="4" fill="{fill}"/>'
            f'<text x="{LABEL_WIDTH + track + 8}" y="{y + 21}" font-size="13" font-weight="700" '
            f'fill="{INK}">{escape(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def columns(values: list[tuple[str, int]], *, title: str) -> str:
    """Vertical columns for a histogram: (bin label, count)."""
    height = 180
    base = 150
    n = max(len(values), 1)
    step = WIDTH / n
    top = max((c for _, c in values), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}">',
        f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="{MUTED}" stroke-width="1"/>',
    ]
    for i, (label, count) in enumerate(values):
        x = i * step + 4
        h = (base - 20) * count / top
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{step - 8:.1f}" height="{h:.1f}" fill="{BAR_TOP}"/>'
            f'<text x="{x + (step - 8) / 2:.1f}" y="{base - h - 4:.1f}" font-size="12" text-anchor="middle" '
            f'fill="{INK}">{count}</text>'
            f'<text x="{x + (step - 8) / 2:.1f}" y="{base + 16}" font-size="10" text-anchor="middle" '
            f'fill="{MUTED}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _number(value) -> str:
    """A figure written for the reader's language ("4,5" in French and German)."""
    if value is None:
        return ""
    return formats.number_format(float(f"{value:g}"), use_l10n=True) if isinstance(value, float) else str(value)


def poll_chart(report: Any) -> str:
    """The chart a poll's kind deserves (a build.PollReport, not imported: build imports this module):
    shares, Borda scores or a histogram; none for free text."""
    title = report.poll.question
    if report.ranking:
        top = max((o.borda or 0 for o in report.ranking), default=0) or 1
        rows = [
            (
                o.label,
                (o.borda or 0) / top,
                pgettext("Borda score", "%(points)s pts") % {"points": o.borda},
                o.preferred,
            )
            for o in report.ranking
        ]
        return bars(rows, title=gettext("Borda scores: %(question)s") % {"question": title})
    if report.is_choice:
        total = report.total or 1
        shown = report.poll.preferred_revealed
        rows = [
            (o.label, o.count / total, f"{o.count} · {format_percent(float(f'{o.percent:g}'))}", o.preferred and shown)
            for o in report.options
        ]
        return bars(rows, title=title)
    if report.numeric and report.numeric.get("histogram"):
        values = [(f"{_number(b['from'])}–{_number(b['to'])}", b["count"]) for b in report.numeric["histogram"]]
        return columns(values, title=gettext("Histogram: %(question)s") % {"question": title})
    return ""
