"""Writes of authoring that keep an event consistent with what its polls ask about."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min

from cases.forms import ACKNOWLEDGE
from cases.models import Case, TherapyLine
from cases.selectors import unacknowledged_identifiers
from cases.services import identifiers_acknowledged
from polls.errors import DomainError
from polls.forms import WorkspaceOptions, WorkspacePollForm
from polls.models import (
    CHOICE_KINDS,
    AgendaItem,
    AuthoringReceipt,
    Event,
    Option,
    Poll,
    PollKind,
    PollPurpose,
    PollState,
)
from polls.services._common import audit, lock_event, publish_state


@transaction.atomic
def agenda_complete(*, event_id: int, user) -> list[Case]:
    """Every case the event's polls ask about is on its agenda; those missing are added at its end.

    The console lists the agenda, so a poll saved for a case that is not on it was accepted and
    then never seen again (issue 16). Added in the order of their first poll; returns them.
    """
    event = lock_event(event_id)
    on_agenda = AgendaItem.objects.filter(event=event).values("case_id")
    missing = list(
        Poll.objects.filter(event=event)
        .exclude(case_id__in=on_agenda)
        .values("case_id")
        .annotate(first=Min("position"))
        .order_by("first", "case_id")
        .values_list("case_id", flat=True)
    )
    if not missing:
        return []
    last = AgendaItem.objects.filter(event=event).aggregate(last=Max("position"))["last"] or 0
    AgendaItem.objects.bulk_create(
        AgendaItem(event=event, case_id=case_id, position=last + n) for n, case_id in enumerate(missing, start=1)
    )
    audit(event, user, "agenda_complete", ",".join(f"case:{case_id}" for case_id in missing))
    publish_state(event)
    cases = Case.objects.in_bulk(missing)
    return [cases[case_id] for case_id in missing]


AGREEMENT = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]

# The evaluation an accredited activity asks at its end (objectives, relevance, balance and freedom
# from commercial bias, satisfaction), then intent to change (Moore levels 2 and 4).
STANDARD_POLLS: list[dict] = [
    {"purpose": PollPurpose.EVALUATION, "kind": PollKind.LIKERT, "options": AGREEMENT,
     "question": "The activity met its stated learning objectives."},
    {"purpose": PollPurpose.EVALUATION, "kind": PollKind.LIKERT, "options": AGREEMENT,
     "question": "The content was relevant to my practice."},
    {"purpose": PollPurpose.EVALUATION, "kind": PollKind.LIKERT, "options": AGREEMENT,
     "question": "The content was balanced and free of commercial bias."},
    {"purpose": PollPurpose.EVALUATION, "kind": PollKind.LIKERT,
     "options": ["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"],
     "question": "Overall, how satisfied are you with this activity?"},
    {"purpose": PollPurpose.INTENT, "kind": PollKind.SINGLE,
     "options": ["Yes", "No: my practice already reflects it", "No: for another reason", "Not sure yet"],
     "question": "Will you change your practice as a result of this activity?"},
    {"purpose": PollPurpose.INTENT, "kind": PollKind.TEXT, "options": [],
     "question": "If so, what will you change?"},
]  # fmt: skip


@transaction.atomic
def standard_polls_add(*, event_id: int, user) -> list[Poll]:
    """The event has a case on its agenda; the standard evaluation and intent-to-change polls are
    added as drafts after its last poll, under its last case. Adding them again adds nothing."""
    event = lock_event(event_id)
    last_case = AgendaItem.objects.filter(event=event).order_by("-position", "-id").first()
    if last_case is None:
        raise DomainError("unknown_case", "Put a case on the agenda first: the evaluation follows it.")
    existing = set(Poll.objects.filter(event=event).values_list("question", flat=True))
    position = (Poll.objects.filter(event=event).aggregate(last=Max("position"))["last"] or 0) + 1
    added = []
    for spec in STANDARD_POLLS:
        if spec["question"] in existing:
            continue
        poll = Poll.objects.create(
            event=event, case_id=last_case.case_id, position=position, kind=spec["kind"],
            question=spec["question"], purpose=spec["purpose"],
        )  # fmt: skip
        Option.objects.bulk_create(
            Option(poll=poll, label=label, position=n) for n, label in enumerate(spec["options"], 1)
        )
        added.append(poll)
        position += 1
    if added:
        audit(event, user, "add_standard_polls", ",".join(f"poll:{p.id}" for p in added))
        publish_state(event)
    return added


# ------------------------------------------------------------------ the authoring workspace


def receipt_find(*, user, ref: str, kind: str) -> int | None:
    """What the create form with this one-time ref already made, if anything (its id)."""
    if not ref:
        return None
    return AuthoringReceipt.objects.filter(user=user, ref=ref, kind=kind).values_list("object_id", flat=True).first()


def created_once(*, user, ref: str, kind: str, model, make):
    """`make()` run once per one-time form ref: a repeat returns what the first made. Two
    submissions at once: the second's receipt waits for the first's and fails on the unique
    constraint, which rolls back what it made; it then returns the first's."""
    made = receipt_find(user=user, ref=ref, kind=kind)
    if made is not None:
        return model.objects.get(pk=made)
    try:
        with transaction.atomic():
            created = make()
            if ref:
                AuthoringReceipt.objects.create(user=user, ref=ref, kind=kind, object_id=created.pk)
            return created
    except IntegrityError:
        made = receipt_find(user=user, ref=ref, kind=kind)
        if made is None:
            raise
        return model.objects.get(pk=made)


def _save_ordered(formset, *, parent_field: str, parent, order_field: str = "position", **extra) -> None:
    """Rows removed are deleted; those kept are numbered 1, 2, … in the order the page put them in
    (positions are never typed)."""
    for form in formset.deleted_forms:
        if form.instance.pk:
            form.instance.delete()
    for n, form in enumerate(formset.ordered_forms, start=1):
        item = form.save(commit=False)
        setattr(item, parent_field, parent)
        setattr(item, order_field, n)
        for name, value in extra.items():
            if getattr(item, name, None) is None:
                setattr(item, name, value)
        item.save()


def _events_told(case: Case, user, action: str) -> None:
    """Each event the case is on records who changed it, and its screens get the new text."""
    for event_id in case.events.values_list("pk", flat=True).order_by("pk"):
        event = lock_event(event_id)
        audit(event, user, action, f"case:{case.pk}")
        publish_state(event)


@transaction.atomic
def case_builder_save(*, user, case_form, parts: dict, references, images, acknowledged: bool, ref: str = "") -> Case:
    """The forms are valid and the user may edit the case (or create one). The case, its parts in
    their page order, its references and images are saved together or not at all; with
    "I have checked the flagged text" ticked, each finding of the case is acknowledged."""
    creating = case_form.instance.pk is None

    def write() -> Case:
        return _case_write(user, case_form, parts, references, images, acknowledged, creating)

    if creating:
        return created_once(user=user, ref=ref, kind="case", model=Case, make=write)
    case = write()
    _events_told(case, user, "edit_case")
    return case


def _case_write(user, case_form, parts, references, images, acknowledged: bool, creating: bool) -> Case:
    case = case_form.save(commit=False)
    if creating:
        case.created_by = user
    case.save()
    if "therapy_lines" in parts:
        # Renumbered below in page order: moved out of the way of the unique line number first.
        TherapyLine.objects.filter(case=case).update(line_number=F("line_number") + 1000)
        _save_ordered(parts.pop("therapy_lines"), parent_field="case", parent=case, order_field="line_number")
    for formset in parts.values():
        _save_ordered(formset, parent_field="case", parent=case)
    if references is not None:
        for form in references.deleted_forms:
            if form.instance.pk:
                form.instance.delete()
        numbers: dict[int, int] = {}
        for form in references.ordered_forms:
            reference = form.save(commit=False)
            numbers[reference.teaching_point_id] = numbers.get(reference.teaching_point_id, 0) + 1
            reference.position = numbers[reference.teaching_point_id]
            reference.save()
    if images is not None:
        _save_ordered(images, parent_field="case", parent=case, uploaded_by=user if user.is_authenticated else None)
    if acknowledged:
        # Everything the page lists under "Patient identifiers": the case's texts and its polls'.
        found = unacknowledged_identifiers(case=case, more=case_poll_texts(case))
        identifiers_acknowledged(case=case, user=user, findings=found)
    return case


def case_poll_texts(case: Case) -> list[tuple[str, str]]:
    """(where, text) of every poll of the case, as the guard reads them when its event goes live."""
    polls = Poll.objects.filter(case=case).prefetch_related("options").order_by("event_id", "position", "id")
    return [text for poll in polls for text in poll_texts(poll)]


def poll_home_event(case: Case) -> int | None:
    """Where a poll written for the case goes: the event of its agenda (a case copied into an
    event is that event's own), or the case library (None) for a case on no agenda."""
    events = list(case.events.values_list("pk", flat=True)[:2])
    if len(events) > 1:
        raise DomainError(
            "forbidden",
            "This case is on the agenda of several events: write its polls from the admin, event by event.",
        )
    return events[0] if events else None


def _refuse_opened(poll: Poll) -> None:
    if poll.state == PollState.DRAFT:
        return
    where = f"event {poll.event.code}" if poll.event_id else "the library"
    if poll.state == PollState.OPEN:
        reason = (
            f"This poll is open in {where}: the votes coming in answer the question as it stands, so it "
            "cannot be changed. Duplicate it in the console to ask a changed version."
        )
    else:
        reason = (
            f"This poll was asked in {where}: its votes answer the question as it was. "
            "Duplicate it in the console to ask a changed version."
        )
    raise DomainError("invalid_transition", reason)


KIND_FIELDS = {
    PollKind.MULTI: {"max_choices"},
    PollKind.NUMERIC: {"numeric_min", "numeric_max", "numeric_unit"},
    PollKind.TEXT: {"text_max_length"},
}
CLEARED = {"max_choices": None, "numeric_min": None, "numeric_max": None, "numeric_unit": ""}


@transaction.atomic
def case_poll_save(
    *, user, case: Case, poll_form, options, acknowledged: bool, ref: str = "", labels: list[str] | None = None
) -> Poll:
    """The forms are valid and the user may edit the case. A draft poll of the case, with its
    options in page order (or `labels`, a generated rating scale), is created or changed; only
    its kind's own fields are kept. A poll that has been opened is refused, with the reason."""
    if poll_form.instance.pk is None:

        def write() -> Poll:
            return _poll_write(user, case, poll_form, options, acknowledged, labels, poll_home_event(case))

        return created_once(user=user, ref=ref, kind="poll", model=Poll, make=write)
    return _poll_write(user, case, poll_form, options, acknowledged, labels, poll_form.instance.event_id)


def _poll_write(user, case: Case, poll_form, options, acknowledged: bool, labels, event_id: int | None) -> Poll:
    creating = poll_form.instance.pk is None
    event = lock_event(event_id) if event_id else None
    if not creating:
        # The poll's row only (PostgreSQL locks no outer join; the event's row is lock_event's).
        polls = Poll.objects.select_for_update(of=("self",)).select_related("event")
        current = polls.get(pk=poll_form.instance.pk)
        _refuse_opened(current)
    poll = poll_form.save(commit=False)
    for name, empty in CLEARED.items():
        if name not in KIND_FIELDS.get(poll.kind, ()):
            setattr(poll, name, empty)
    if creating:
        poll.event, poll.case = event, case
        siblings = Poll.objects.filter(event=event) if event else Poll.objects.filter(event=None, case=case)
        poll.position = (siblings.aggregate(last=Max("position"))["last"] or 0) + 1
    poll.save()
    if poll.kind not in CHOICE_KINDS:
        poll.options.all().delete()
    elif labels:
        poll.options.all().delete()
        Option.objects.bulk_create(Option(poll=poll, label=label, position=n) for n, label in enumerate(labels, 1))
    else:
        _save_ordered(options, parent_field="poll", parent=poll)
    if acknowledged:
        identifiers_acknowledged(
            case=case, user=user, findings=unacknowledged_identifiers(case=case, more=poll_texts(poll))
        )
    if event is not None:
        audit(event, user, "add_poll" if creating else "edit_poll", f"poll:{poll.pk}")
        publish_state(event)
    return poll


def _quick_poll_acknowledge(event, user, poll: Poll) -> None:
    """Record the quick poll's own findings as acknowledged, audited as one action of the event."""
    own = f"Poll {poll.pk}:"
    findings = [f for f in unacknowledged_identifiers(case=poll.case, more=poll_texts(poll)) if f[0].startswith(own)]
    if findings:
        identifiers_acknowledged(case=poll.case, user=user, findings=findings)
        audit(event, user, "acknowledge_identifiers", f"poll:{poll.pk}")


def poll_texts(poll: Poll) -> list[tuple[str, str]]:
    """(where, text) of what a poll shows, as the identifier guard reads it at go-live."""
    texts = [(f"Poll {poll.pk}: question", poll.question), (f"Poll {poll.pk}: rationale", poll.preferred_rationale)]
    texts += [(f"Poll {poll.pk}: option {o.position}", o.label) for o in poll.options.all()]
    return [(where, text) for where, text in texts if text]


@transaction.atomic
def case_poll_delete(*, user, poll_id: int) -> None:
    """The poll is a draft (never asked): it is deleted with its options."""
    poll = Poll.objects.select_related("event").get(pk=poll_id)
    event = lock_event(poll.event_id) if poll.event_id else None
    poll = Poll.objects.select_for_update(of=("self",)).select_related("event").get(pk=poll_id)
    _refuse_opened(poll)
    poll.delete()
    if event is not None:
        audit(event, user, "delete_poll", f"poll:{poll_id}")
        publish_state(event)


@transaction.atomic
def event_create(*, user, event_form, ref: str = "") -> Event:
    """The form is valid; a draft event owned and moderated by the user (its join code generated)."""

    def write() -> Event:
        event = event_form.save(commit=False)
        event.owner = user
        event.save()
        event.moderators.add(user)
        audit(event, user, "create_event")
        return event

    return created_once(user=user, ref=ref, kind="event", model=Event, make=write)


# ------------------------------------------------------------------ a quick poll from the console

QUICK_POLL_MAX_OPTIONS = 12


def _form_errors(*forms_) -> str:
    """The forms' errors as one sentence per problem, named by the field's label."""
    problems = []
    for form in forms_:
        for errors in [getattr(form, "non_form_errors", lambda: [])()]:
            problems += list(errors)
        for one in form.forms if hasattr(form, "forms") else [form]:
            for name, errors in one.errors.items():
                label = one.fields[name].label if name in one.fields else ""
                problems += [f"{label}: {error}" if label and name != "__all__" else error for error in errors]
    return " ".join(problems) or "The poll is not complete."


@transaction.atomic
def quick_poll_add(
    *,
    event_id: int,
    user,
    ref: str,
    case_id: int | None,
    kind: str,
    question: str,
    options: list[str],
    numeric: tuple[float | None, float | None, str] = (None, None, ""),
    acknowledged: bool = False,
) -> Poll:
    """The user moderates the event; a draft poll asked on the spot joins the case on screen (or
    `case_id`, a case of its agenda) after that case's last poll, checked by the same rules as the
    authoring workspace's poll form. The same `ref` again returns the poll it made.

    `acknowledged` is the console's "I have checked the flagged text": the poll's own findings are
    then recorded as acknowledged by the user (where, kind, fingerprint; never the text) and
    audited. The case's other texts are not: the moderator has not seen them in this form."""
    event = lock_event(event_id)
    made = receipt_find(user=user, ref=f"console:{ref}", kind="poll")
    if made is not None:
        return Poll.objects.get(pk=made)
    agenda = AgendaItem.objects.filter(event=event)
    if case_id is None:
        case_id = event.current_case_id or agenda.order_by("position", "id").values_list("case_id", flat=True).first()
    if case_id is None or not agenda.filter(case_id=case_id).exists():
        raise DomainError("unknown_case")
    if len(options) > QUICK_POLL_MAX_OPTIONS:
        raise DomainError("invalid_poll", f"A quick poll has at most {QUICK_POLL_MAX_OPTIONS} options.")
    low, high, unit = numeric
    data = {
        "question": question,
        "kind": kind,
        "text_max_length": "140",
        "numeric_min": "" if low is None else str(low),
        "numeric_max": "" if high is None else str(high),
        "numeric_unit": unit,
        "options-TOTAL_FORMS": str(len(options)),
        "options-INITIAL_FORMS": "0",
        ACKNOWLEDGE: "on" if acknowledged else "",
    }
    for n, label in enumerate(options):
        data[f"options-{n}-label"], data[f"options-{n}-ORDER"] = label, str(n + 1)
    draft = Poll(event=event, case_id=case_id)
    form = WorkspacePollForm(data, instance=draft)
    formset = WorkspaceOptions(data, instance=draft, prefix="options")
    if form.is_valid():
        formset.kind = form.cleaned_data["kind"]
        formset.generated = formset.kind not in CHOICE_KINDS
    if not (form.is_valid() & formset.is_valid()):
        raise DomainError("invalid_poll", _form_errors(form, formset))
    poll = form.save(commit=False)
    for name, empty in CLEARED.items():
        if name not in KIND_FIELDS.get(poll.kind, ()):
            setattr(poll, name, empty)
    last = Poll.objects.filter(event=event, case_id=case_id).aggregate(last=Max("position"))["last"]
    if last is None:
        last = Poll.objects.filter(event=event).aggregate(last=Max("position"))["last"] or 0
    # Right after the case's last poll: the polls after it move down one place, keeping their order.
    Poll.objects.filter(event=event, position__gt=last).update(position=F("position") + 1)
    poll.position = last + 1
    poll.save()
    if poll.kind in CHOICE_KINDS:
        _save_ordered(formset, parent_field="poll", parent=poll)
    AuthoringReceipt.objects.create(user=user, ref=f"console:{ref}", kind="poll", object_id=poll.pk)
    audit(event, user, "add_poll", f"poll:{poll.pk}")
    if acknowledged:
        _quick_poll_acknowledge(event, user, poll)
    publish_state(event)
    return poll
