"""A case as a file: a case with its teaching points and polls, exported, imported and copied.

Teams share cases between events and between installations. The file is JSON in the documented
format of docs/case-file.md (named by FORMAT, versioned by VERSION); reading one is strict: an
unknown field, a wrong version or a value its model refuses is an error with the path of the
item, and nothing of a refused file is saved. A copy is an export read back: a case added to an
event from the library is the event's own from then on, so later edits of the library case do
not change what an earlier event showed.

Nothing is read by position: positions are the order of the lists in the file.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from cases.models import Case, CaseFact, HistoryItem, Reference, StagingItem, TeachingPoint, TherapyLine
from cases.selectors import cases_visible_to
from cases.services import identifiers_acknowledged
from polls.errors import DomainError
from polls.models import CHOICE_KINDS, AgendaItem, Event, EventStatus, Option, Poll, ProfileQuestion, new_join_code
from polls.selectors import user_moderates
from polls.services._common import audit, lock_event, publish_state
from polls.services.authoring import created_once

FORMAT = "caseboard.case"
VERSION = 1
MAX_BYTES = 512 * 1024  # a case is a few kilobytes; images are not part of the file
MAX_ITEMS = 200  # per list

CASE_FIELDS = (
    "title",
    "disease",
    "diagnosis",
    "patient_age",
    "patient_sex",
    "years_since_diagnosis",
    "ecog",
    "current_status",
    "clinical_question",
)
STAGING_FIELDS = ("system", "value")
THERAPY_FIELDS = ("line_number", "regimen", "agents", "transplant", "best_response", "outcome")
FACT_FIELDS = ("label", "text", "hidden_until_revealed")
POINT_FIELDS = ("title", "text")
REFERENCE_FIELDS = ("citation", "pmid", "doi", "nct", "url")
POLL_FIELDS = (
    "question",
    "kind",
    "purpose",
    "max_choices",
    "numeric_min",
    "numeric_max",
    "numeric_unit",
    "text_max_length",
    "ask_confidence",
    "preferred_rationale",
)
OPTION_FIELDS = ("label", "is_preferred")


# What a refused constraint means, in the words of the file's fields (Django names the constraint).
CONSTRAINTS = {
    "reference_nct_format": "nct must be “NCT” followed by 8 digits",
    "reference_pmid_digits": "pmid must be digits only",
    "poll_numeric_range_ordered": "numeric_min must not be larger than numeric_max",
    "poll_numeric_range_bounded": "numeric_min and numeric_max are out of bounds",
    "poll_text_length_bounded": "text_max_length is out of bounds",
    "poll_kind_valid": "kind is not a poll kind",
}


class CaseFileError(Exception):
    """A file that cannot be read; `errors` says what and where, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


# ------------------------------------------------------------------------ export


def _values(obj: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def case_file(case: Case, *, event: Event | None = None) -> dict[str, Any]:
    """The case as a case file with its polls: that event's polls of it, or without an event its
    library polls (those of the authoring workspace, which belong to no event yet)."""
    body = _values(case, CASE_FIELDS)
    body["staging"] = [_values(item, STAGING_FIELDS) for item in case.staging.all()]
    body["history"] = [item.text for item in case.history.all()]
    body["therapy_lines"] = [_values(line, THERAPY_FIELDS) for line in case.therapy_lines.all()]
    body["facts"] = [_values(fact, FACT_FIELDS) for fact in case.facts.all()]
    body["teaching_points"] = [
        {**_values(point, POINT_FIELDS), "references": [_values(r, REFERENCE_FIELDS) for r in point.references.all()]}
        for point in case.teaching_points.all()
    ]
    polls = []
    # Later rounds are copies asked again live; the file holds each question once.
    for poll in Poll.objects.filter(event=event, case=case, round_of__isnull=True).prefetch_related("options"):
        polls.append({**_values(poll, POLL_FIELDS), "options": [_values(o, OPTION_FIELDS) for o in poll.options.all()]})
    return {"format": FORMAT, "version": VERSION, "case": body, "polls": polls}


def case_file_bytes(case: Case, *, event: Event | None = None) -> bytes:
    return json.dumps(case_file(case, event=event), ensure_ascii=False, indent=2).encode("utf-8")


# ------------------------------------------------------------------------ import


def read_case_file(raw: bytes) -> dict[str, Any]:
    """The parsed file, its format and version checked; raises CaseFileError."""
    if len(raw) > MAX_BYTES:
        raise CaseFileError([f"The file is larger than {MAX_BYTES // 1024} KB; a case file is a few KB."])
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CaseFileError(["This is not a JSON file (UTF-8)."]) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CaseFileError([f"This is not a Caseboard case file (its format must be “{FORMAT}”)."])
    if data.get("version") != VERSION:
        raise CaseFileError(
            [f"This case file is version {data.get('version')!r}; this Caseboard reads version {VERSION}."]
        )
    return data


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _Reader:
    """Builds unsaved model instances from the file, collecting every error with its path."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fields(self, data: Any, path: str, allowed: tuple[str, ...], nested: tuple[str, ...] = ()) -> dict | None:
        if not isinstance(data, dict):
            self.errors.append(f"{path}: must be an object")
            return None
        for key in data:
            if key not in allowed and key not in nested:
                self.errors.append(f"{path}.{key}: unknown field")
        return {key: data[key] for key in allowed if key in data}

    def items(self, data: Any, path: str) -> list:
        if data is None:
            return []
        if not isinstance(data, list):
            self.errors.append(f"{path}: must be a list")
            return []
        if len(data) > MAX_ITEMS:
            self.errors.append(f"{path}: at most {MAX_ITEMS} items")
            return []
        return data

    @staticmethod
    def broken_constraints(instance: models.Model, exclude: set[str]) -> list[str]:
        """Django says "Constraint “name” is violated"; the file's author is told what it means."""
        broken = []
        for constraint in instance._meta.constraints:
            try:
                constraint.validate(type(instance), instance, exclude=exclude)
            except ValidationError:
                broken.append(CONSTRAINTS.get(constraint.name, f"the values break the rule “{constraint.name}”"))
        return broken

    def build(self, model: type[models.Model], values: dict | None, path: str, **parents) -> models.Model | None:
        if values is None:
            return None
        for name, value in values.items():
            if isinstance(value, dict | list):
                self.errors.append(f"{path}.{name}: must be a single value")
                return None
        instance = model(**values, **parents)
        try:
            # Parents are not saved yet; their keys are checked when they are.
            instance.full_clean(exclude=[name for name in parents], validate_unique=False)
        except ValidationError as invalid:
            for name, messages in invalid.message_dict.items():
                if name == "__all__":
                    messages = self.broken_constraints(instance, exclude=set(parents)) or messages
                where = path if name == "__all__" else f"{path}.{name}"
                self.errors += [f"{where}: {message}" for message in messages]
            return None
        return instance


def _read(data: dict[str, Any]) -> tuple[Case, dict[str, list], list[tuple[Poll, list[Option]]], list[str]]:
    reader = _Reader()
    nested = ("staging", "history", "therapy_lines", "facts", "teaching_points")
    for key in data:
        if key not in ("format", "version", "case", "polls"):
            reader.errors.append(f"{key}: unknown field")
    body = data.get("case")
    case = reader.build(Case, reader.fields(body, "case", CASE_FIELDS, nested), "case")
    body = body if isinstance(body, dict) else {}
    parts: dict[str, list] = {"staging": [], "history": [], "therapy_lines": [], "facts": [], "points": []}
    for n, item in enumerate(reader.items(body.get("staging"), "case.staging")):
        values = reader.fields(item, f"case.staging[{n}]", STAGING_FIELDS)
        parts["staging"].append(
            reader.build(StagingItem, values and {**values, "position": n + 1}, f"case.staging[{n}]", case=case)
        )
    for n, text in enumerate(reader.items(body.get("history"), "case.history")):
        if not isinstance(text, str):
            reader.errors.append(f"case.history[{n}]: must be text")
            continue
        parts["history"].append(
            reader.build(HistoryItem, {"text": text, "position": n + 1}, f"case.history[{n}]", case=case)
        )
    for n, item in enumerate(reader.items(body.get("therapy_lines"), "case.therapy_lines")):
        values = reader.fields(item, f"case.therapy_lines[{n}]", THERAPY_FIELDS)
        parts["therapy_lines"].append(reader.build(TherapyLine, values, f"case.therapy_lines[{n}]", case=case))
    for n, item in enumerate(reader.items(body.get("facts"), "case.facts")):
        values = reader.fields(item, f"case.facts[{n}]", FACT_FIELDS)
        parts["facts"].append(
            reader.build(CaseFact, values and {**values, "position": n + 1}, f"case.facts[{n}]", case=case)
        )
    for n, item in enumerate(reader.items(body.get("teaching_points"), "case.teaching_points")):
        path = f"case.teaching_points[{n}]"
        values = reader.fields(item, path, POINT_FIELDS, ("references",))
        point = reader.build(TeachingPoint, values and {**values, "position": n + 1}, path, case=case)
        references = []
        for m, ref in enumerate(
            reader.items((item or {}).get("references") if isinstance(item, dict) else None, f"{path}.references")
        ):
            ref_values = reader.fields(ref, f"{path}.references[{m}]", REFERENCE_FIELDS)
            references.append(
                reader.build(
                    Reference,
                    ref_values and {**ref_values, "position": m + 1},
                    f"{path}.references[{m}]",
                    teaching_point=point,
                )
            )
        parts["points"].append((point, references))
    polls = []
    for n, item in enumerate(reader.items(data.get("polls"), "polls")):
        path = f"polls[{n}]"
        values = reader.fields(item, path, POLL_FIELDS, ("options",))
        poll = reader.build(Poll, values, path, event=None, case=case)
        options = []
        raw_options = reader.items(item.get("options") if isinstance(item, dict) else None, f"{path}.options")
        for m, option in enumerate(raw_options):
            option_values = reader.fields(option, f"{path}.options[{m}]", OPTION_FIELDS)
            options.append(
                reader.build(
                    Option, option_values and {**option_values, "position": m + 1}, f"{path}.options[{m}]", poll=poll
                )
            )
        if poll is not None and poll.kind in CHOICE_KINDS and len(raw_options) < 2:
            reader.errors.append(f"{path}.options: a {poll.get_kind_display().lower()} poll needs at least two options")
        polls.append((poll, options))
    return case, parts, polls, reader.errors


@transaction.atomic
def case_file_import(*, data: dict[str, Any], user, event_id: int | None = None) -> Case:
    """A new case from a read case file, owned by `user`; with an event, on its agenda with its
    polls; without one, in the case library with its polls as library polls.

    Everything or nothing: raises CaseFileError listing every problem, and saves nothing then."""
    case, parts, polls, errors = _read(data)
    if errors:
        raise CaseFileError(errors)
    case.created_by = user if user and user.is_authenticated else None
    case.save()
    for key in ("staging", "history", "therapy_lines", "facts"):
        for item in parts[key]:
            item.case = case
            item.save()
    for point, references in parts["points"]:
        point.case = case
        point.save()
        for reference in references:
            reference.teaching_point = point
            reference.save()
    if event_id is not None:
        _add_to_event(case, polls, event_id=event_id, user=user)
    else:
        for position, (poll, options) in enumerate(polls, start=1):
            poll.event, poll.case, poll.position = None, case, position
            poll.save()
            for option in options:
                option.poll = poll
                option.save()
    return case


def _add_to_event(case: Case, polls: list[tuple[Poll, list[Option]]], *, event_id: int, user) -> None:
    event = lock_event(event_id)
    last = AgendaItem.objects.filter(event=event).aggregate(last=models.Max("position"))["last"] or 0
    AgendaItem.objects.create(event=event, case=case, position=last + 1)
    first = (Poll.objects.filter(event=event).aggregate(last=models.Max("position"))["last"] or 0) + 1
    for offset, (poll, options) in enumerate(polls):
        poll.event, poll.case, poll.position = event, case, first + offset
        poll.save()
        for option in options:
            option.poll = poll
            option.save()
    audit(event, user, "add_case", f"case:{case.id}")
    publish_state(event)


@transaction.atomic
def case_copy(*, case_id: int, event_id: int, user, polls_from_event_id: int | None = None) -> Case:
    """The case (with the polls it has in `polls_from_event_id`, else its library polls) copied
    onto the event's agenda."""
    source = Case.objects.get(pk=case_id)
    from_event = Event.objects.filter(pk=polls_from_event_id).first() if polls_from_event_id else None
    copy = case_file_import(data=case_file(source, event=from_event), user=user, event_id=event_id)
    _carry_acknowledgements(source, copy)
    return copy


def _carry_acknowledgements(source: Case, copy: Case) -> None:
    """A copy on this server has the same text, so what was acknowledged of it stays acknowledged
    (a file carries no acknowledgement: its fingerprints are keyed with this server's secret)."""
    acknowledged = [(a.where, a.kind, a.fingerprint) for a in source.identifier_acknowledgements.all()]
    if acknowledged:
        first = source.identifier_acknowledgements.order_by("at").first()
        identifiers_acknowledged(case=copy, user=first.user if first else None, findings=acknowledged)


# Settings an event copied as a template keeps; its live state, people and schedule start afresh.
TEMPLATE_FIELDS = (
    "min_cell_size",
    "questions_enabled",
    "questions_moderated",
    "questions_names_allowed",
    "time_zone",
    "duration_minutes",
    "credit_hours",
    "credit_statement",
)


@transaction.atomic
def event_copy(*, event_id: int, user, title: str | None = None) -> Event:
    """A new draft event from an earlier one used as a template: its settings, and a copy of each
    case on its agenda with its teaching points and polls (in agenda order). No participant, ballot,
    question, moderator other than `user`, or schedule comes along."""
    source = Event.objects.get(pk=event_id)
    copy = Event(title=title or f"{source.title} (copy)"[:200], code=new_join_code(), owner=user)
    for name in TEMPLATE_FIELDS:
        setattr(copy, name, getattr(source, name))
    copy.full_clean()
    copy.save()
    if user is not None and user.is_authenticated:
        copy.moderators.add(user)
    ProfileQuestion.objects.bulk_create(
        ProfileQuestion(event=copy, key=q.key, label=q.label, options=list(q.options), position=q.position)
        for q in source.profile_questions.all()
    )
    for case in source.cases.order_by("agenda_items__position"):
        copied = case_file_import(data=case_file(case, event=source), user=user, event_id=copy.pk)
        _carry_acknowledgements(case, copied)
    return copy


@transaction.atomic
def case_add_to_event(*, user, case_id: int, event_id: int, ref: str = "") -> Case:
    """The user may see the case and moderates the event, which has not ended: a copy of the case
    with its library polls joins the event's agenda (later library edits leave it as it is).
    Repeated with the same one-time form ref, it adds nothing more."""
    case = cases_visible_to(user=user).filter(pk=case_id).first()
    event = Event.objects.filter(pk=event_id).first()
    if case is None or event is None or not user_moderates(user=user, event=event):
        raise DomainError("forbidden", "You may add your own cases to events you moderate.")
    if event.status == EventStatus.ENDED:
        raise DomainError("event_ended", f"{event.code} has ended: add the case to another event.")
    return created_once(
        user=user,
        ref=ref,
        kind="copy",
        model=Case,
        make=lambda: case_copy(case_id=case.pk, event_id=event.pk, user=user),
    )
