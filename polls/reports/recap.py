"""The recap: a Markdown narrative drafted from the report by templates (no language model), and
its safe rendering to HTML.

The draft follows the shape of an event recap as organisers write it: per case a summary built
from the structured fields, the question and how the room answered, how that moved after the
discussion, what the panel chose, the preferred answer and why, and the teaching points with their
evidence; then what was asked after the discussion and the take-aways. Every figure is read from
the EventReport (and so from the live tally). Nothing a participant typed is quoted: a recap may be
published on a public link, which must carry aggregated, suppressed figures only.
"""

from __future__ import annotations

import re

from polls.models import EventRecap, PollKind
from polls.reports.build import CaseReport, EventReport, OptionFigures, PollReport

MARKDOWN_CHARS = re.compile(r"([\\`*_\[\]<>|])")


def md(text: str) -> str:
    """Text from authors as literal Markdown text: its markup characters are escaped, and so is a
    leading "#", "-", "+" or digits-and-dot that would start a heading or a list."""
    text = MARKDOWN_CHARS.sub(r"\\\1", " ".join(str(text).split()))
    text = re.sub(r"^([#+-])", r"\\\1", text)
    return re.sub(r"^(\d+)\.", r"\1\\.", text)


def _pct(value: float | None) -> str:
    return "0%" if value is None else f"{value:.1f}".removesuffix(".0") + "%"


def _num(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _join(items: list[str], last: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def case_paragraph(case: CaseReport) -> str:
    """One sentence or three from the structured fields: "A 70-year-old man with … at …"."""
    c = case.case
    sex = {"male": "man", "female": "woman"}.get(c.patient_sex, "patient")
    staging = [f"{s.system} {s.value}" for s in c.staging.all()]
    text = f"A {c.patient_age}-year-old {sex} with {md(c.diagnosis)}"
    if c.years_since_diagnosis is not None:
        text += f", diagnosed {c.years_since_diagnosis} years ago"
    if staging:
        text += f" ({md(', '.join(staging))})"
    lines = list(c.therapy_lines.all())
    if lines:
        regimens = "; ".join(f"{line.line_number}: {md(line.regimen)}" for line in lines)
        text += f", has had {len(lines)} line{'s' if len(lines) > 1 else ''} of therapy ({regimens})"
    text += "."
    history = [md(h.text) for h in c.history.all()]
    if history:
        text += f" Medical history: {_join(history)}."
    if c.ecog is not None:
        text += f" ECOG performance status {c.ecog}."
    if c.current_status:
        text += f" {md(c.current_status)}"
    return text


def _choices_sentence(poll: PollReport) -> str:
    chosen = [o for o in sorted(poll.options, key=lambda o: -o.count) if o.count]
    unchosen = [md(o.label) for o in poll.options if not o.count]
    parts = [f"{md(o.label)} ({_pct(o.percent)}, {o.count})" for o in chosen]
    sentence = f"The {poll.total} participants who answered chose {_join(parts, 'or')}" if parts else "No one answered"
    if parts and unchosen:
        sentence += f"; no one chose {_join(unchosen, 'or')}"
    return sentence + "."


def _ranking_sentence(poll: PollReport) -> str:
    order = [f"{md(o.label)} (Borda score {o.borda}, mean rank {_num(o.mean_rank)})" for o in poll.ranking]
    return f"Ranked by {poll.total} participants: {_join(order, 'then')}."


def _numeric_sentence(poll: PollReport) -> str:
    n = poll.numeric or {}
    unit = f" {md(n['unit'])}" if n.get("unit") else ""
    if not n.get("n"):
        return "No one answered."
    return (
        f"The median answer was {_num(n['median'])}{unit} (mean {_num(n['mean'])}; "
        f"from {_num(n['min'])} to {_num(n['max'])}; {n['n']} answers)."
    )


def poll_paragraph(poll: PollReport, *, after: bool) -> list[str]:
    """What the room answered to one poll, and everything the report knows around it."""
    if not poll.asked:
        return []
    q = md(poll.poll.question)
    out = []
    if poll.transitions:
        t = poll.transitions
        top = max(poll.options, key=lambda o: o.count)
        shift = f" ({'+' if (top.shift or 0) > 0 else ''}{_num(top.shift)} points)" if top.shift is not None else ""
        out.append(
            f"Asked again after the discussion (round {t.to_round}), {top.count} of {poll.total} participants "
            f"({_pct(top.percent)}) chose {md(top.label)}{shift}; {t.changed} of the {t.participants} who "
            f"answered both rounds changed their answer."
        )
    else:
        lead = "After the discussion the room was asked" if after else "The room was asked"
        out.append(f"{lead}: *{q}*" + ("" if q.endswith(("?", ".", "!")) else "."))
        if poll.ranking:
            out.append(_ranking_sentence(poll))
        elif poll.poll.kind in (PollKind.SINGLE, PollKind.MULTI, PollKind.LIKERT):
            sentence = _choices_sentence(poll)
            if poll.scale and poll.scale.get("mean") is not None:
                sentence += f" Mean {_num(poll.scale['mean'])} on a scale of 1 to {poll.scale['points']}."
            out.append(sentence)
        elif poll.numeric is not None:
            out.append(_numeric_sentence(poll))
        elif poll.poll.kind == PollKind.TEXT:
            out.append(
                f"{poll.total} participants answered in their own words; {len(poll.answers)} answers were "
                "shown to the room (listed in the event report)."
            )
    if poll.panel_suppressed:
        out.append(f"The faculty panel ({poll.panel_total}) voted too; a group this small is not shown.")
    elif poll.panel_total and poll.options and poll.options[0].panel_count is not None:
        best: OptionFigures = max(poll.options, key=lambda o: o.panel_count or 0)
        out.append(
            f"The faculty panel chose {md(best.label)} ({best.panel_count} of {poll.panel_total})"
            + (
                f"; {poll.concordance_panel['agreeing']} of {poll.total} participants agreed with the panel."
                if poll.concordance_panel
                else "."
            )
        )
    if poll.preferred_labels and poll.poll.preferred_revealed:
        text = f"The evidence-preferred answer is {_join([md(x) for x in poll.preferred_labels], 'or')}"
        text += "."
        if poll.poll.preferred_rationale:
            text += f" {md(poll.poll.preferred_rationale).rstrip('.')}."
        if poll.concordance_preferred:
            c = poll.concordance_preferred
            text += f" {c['agreeing']} of {poll.total} participants ({_pct(poll.preferred_percent)}) chose it."
        out.append(text)
    if poll.poll.ask_confidence:
        rated = [o for o in poll.options if o.confidence_mean is not None]
        if rated:
            parts = [f"{md(o.label)} {_num(o.confidence_mean)}" for o in rated]
            out.append(f"Mean confidence (1 to 5) by answer: {_join(parts)}.")
    return out


def _reference(ref) -> str:
    ids = []
    if ref.pmid:
        ids.append(f"PMID {ref.pmid}")
    if ref.doi:
        ids.append(f"DOI {md(ref.doi)}")
    if ref.nct:
        ids.append(ref.nct)
    return md(ref.citation) + (f" ({'; '.join(ids)})" if ids else "")


def draft(report: EventReport) -> str:
    """The recap's first draft, in Markdown, for the moderator to edit."""
    event = report.event
    day = (event.started_at or event.created_at).strftime("%-d %B %Y")
    lines = [f"# {md(event.title)}", ""]
    credits = f"Recap of the live case discussion on {day}"
    if report.faculty:
        credits += f", with faculty {_join([md(f) for f in report.faculty])}"
    if report.moderators:
        credits += f", moderated by {_join([md(m) for m in report.moderators])}"
    lines += [f"*{credits}. {report.joined} participants joined.*", ""]
    takeaways = [p for c in report.cases for p in c.teaching_points]
    if takeaways:
        lines += ["## Key take-aways", ""]
        lines += [f"- {md(p.title)}" for p in takeaways]
        lines.append("")
    for number, case in enumerate(report.cases, start=1):
        lines += [f"## Case {number}: {md(case.case.title)}", "", case_paragraph(case), ""]
        if case.case.clinical_question:
            lines += [f"**The question:** {md(case.case.clinical_question)}", ""]
        first_reveal = case.teaching_points[0].revealed_at if case.teaching_points else None
        before, after = [], []
        for poll in case.polls:
            opened = poll.poll.opened_at
            late = first_reveal is not None and opened is not None and opened > first_reveal
            (after if late or poll.transitions else before).append(poll)
        if before:
            lines += ["### How the room voted", ""]
            for poll in before:
                lines += [" ".join(poll_paragraph(poll, after=False)), ""]
        if case.teaching_points:
            lines += ["### What the faculty taught, and the evidence", ""]
            for point in case.teaching_points:
                lines += [f"**{md(point.title)}.** {md(point.text)}", ""]
                for ref in point.references:
                    lines.append(f"- {_reference(ref)}")
                if point.references:
                    lines.append("")
        if after:
            lines += ["### After the discussion", ""]
            for poll in after:
                lines += [" ".join(poll_paragraph(poll, after=True)), ""]
    lines += [
        "---",
        "",
        "*Figures are from the live votes: anonymous participants, faculty counted apart, groups smaller "
        f"than {report.min_cell_size} not shown.*",
        "",
        "*Disclosures: to be completed by the organiser before publishing.*",
        "",
    ]
    return "\n".join(line for line in _squash(lines))


def _squash(lines: list[str]):
    blank = False
    for line in lines:
        if line == "" and blank:
            continue
        blank = line == ""
        yield line


ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "blockquote", "code", "pre",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "sup", "sub",
}  # fmt: skip


def render(markdown_text: str) -> str:
    """Markdown to HTML that is safe to show to anyone: Python-Markdown turns the text into HTML
    (it passes raw HTML through, by design), then nh3 (the Rust ammonia sanitiser) keeps only an
    allowlist of tags, no attributes but links' href and title, and only http, https and mailto URLs."""
    import markdown
    import nh3

    html = markdown.markdown(markdown_text, extensions=["tables", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def stored(*, event) -> EventRecap | None:
    """The event's saved recap, if a moderator has saved one."""
    return EventRecap.objects.filter(event=event).first()


def public(*, token: str) -> EventRecap | None:
    """A recap shared on its public link: published, link switched on, and the token matches."""
    if not token or len(token) > 64:
        return None
    return (
        EventRecap.objects.select_related("event")
        .filter(public_token=token, public_link=True, published_at__isnull=False)
        .first()
    )
