"""One serializer per entity, used by every frame that carries it (state, results, acks)."""

from __future__ import annotations

from typing import Any

# ---------------------------------------------------------------- serializers


def event_payload(event, *, profile_questions: list[dict[str, Any]]) -> dict[str, Any]:
    """The event; `profile_questions` are its own (selectors.profile_questions)."""
    return {
        "id": event.id,
        "code": event.code,
        "title": event.title,
        "status": event.status,
        "profile_questions": profile_questions,
        "segment": event.presenter_segment or None,
        "min_cell_size": event.min_cell_size,
        "screen": event.screen,
        "teaching_point": event.screen_point_id,
        "page": {"focus": event.screen_page_focus, "index": event.screen_page, "count": event.screen_pages},
        "theme": event.theme,
        "text_view": event.text_view,
    }


def case_payload(case, *, revealed_facts: set[int] = frozenset(), moderator: bool = False) -> dict[str, Any]:
    """A case; hidden facts appear once revealed in this event (moderators see all, flagged)."""
    facts = [
        {
            "id": f.id,
            "label": f.label,
            "text": f.text,
            "revealed": not f.hidden_until_revealed or f.id in revealed_facts,
        }
        for f in case.facts.all()
    ]
    if not moderator:
        facts = [{k: v for k, v in f.items() if k != "revealed"} for f in facts if f["revealed"]]
    return {
        "facts": facts,
        "id": case.id,
        # The language the case is written in (its author's): pages mark its text with it (lang),
        # while the interface around it follows the reader (issue 18, docs/i18n.md).
        "language": case.language,
        "title": case.title,
        "disease": case.disease,
        "patient": {"age": case.patient_age, "sex": case.patient_sex},
        "diagnosis": case.diagnosis,
        "years_since_diagnosis": case.years_since_diagnosis,
        "staging": [{"system": s.system, "value": s.value} for s in case.staging.all()],
        "ecog": case.ecog,
        "history": [h.text for h in case.history.all()],
        "therapy_lines": [
            {
                "line": t.line_number,
                "regimen": t.regimen,
                "agents": t.agent_list,
                "transplant": t.transplant,
                "best_response": t.best_response,
                "outcome": t.outcome,
            }
            for t in case.therapy_lines.all()
        ],
        "current_status": case.current_status,
        "clinical_question": case.clinical_question,
        # The pixels are fetched from /e/<CODE>/images/<id> (the frame carries no image data).
        "images": [
            {"id": i.id, "caption": i.caption, "alt": i.alt_text, "width": i.width, "height": i.height}
            for i in case.images.all()
        ],
    }


def epoch_ms(moment) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def poll_payload(poll, *, moderator: bool = False) -> dict[str, Any]:
    """A poll as every screen sees it; the preferred answer only once revealed (moderators always)."""
    options = list(poll.options.all())
    payload: dict[str, Any] = {
        "id": poll.id,
        "case": poll.case_id,
        "kind": poll.kind,
        "question": poll.question,
        "state": poll.state,
        "results_visible": poll.results_visible,
        "options": [{"id": o.id, "label": o.label} for o in options],
        "closes_at": epoch_ms(poll.closes_at) if poll.state == "open" else None,
        "ask_confidence": poll.ask_confidence,
        "round": poll.round_number,
        "resets": poll.reset_count,
    }
    if poll.kind == "multi":
        payload["max_choices"] = poll.max_choices or len(options)
    elif poll.kind == "numeric":
        payload["numeric"] = {"min": poll.numeric_min, "max": poll.numeric_max, "unit": poll.numeric_unit}
    elif poll.kind == "text":
        payload["text_max_length"] = poll.text_max_length
    preferred = [o.id for o in options if o.is_preferred]
    if preferred and (moderator or poll.preferred_revealed):
        payload["preferred"] = {
            "options": preferred,
            "rationale": poll.preferred_rationale,
            "revealed": poll.preferred_revealed,
        }
    return payload


def teaching_point_payload(point) -> dict[str, Any]:
    return {
        "id": point.id,
        "case": point.case_id,
        "title": point.title,
        "text": point.text,
        "references": [
            {"citation": r.citation, "pmid": r.pmid, "doi": r.doi, "nct": r.nct, "url": r.url}
            for r in point.references.all()
        ],
    }


def results_payload(*, poll_id: int, total: int, version: int, detail: dict[str, Any] | None) -> dict[str, Any]:
    """A `results` frame; `detail` (counts and the kind's statistics) only for those allowed to see it."""
    payload: dict[str, Any] = {"type": "results", "poll": poll_id, "total": total, "version": version}
    if detail is not None:
        payload.update(detail)
    return payload


def question_payload(
    question, *, mine: bool, voted: bool, moderator: bool = False, show_name: bool = True
) -> dict[str, Any]:
    """An audience question (a selectors.QuestionItem); who asked and who upvoted stay on the server,
    the moderator also learns which question a merged duplicate went into. A name is shown only
    while the event allows names (`show_name`; moderators always see it)."""
    payload: dict[str, Any] = {
        "id": question.id,
        "text": question.text,
        "votes": question.votes,
        "state": question.state,
        "pinned": question.pinned,
        "answered": question.answered,
        "name": (question.name or None) if show_name or moderator else None,
        "mine": mine,
        "voted": voted,
    }
    if moderator:
        payload["merged_into"] = question.merged_into
    return payload
