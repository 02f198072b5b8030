"""The authoring workspace (/author/): a moderator's cases and events, the case builder with its
polls and a preview of the phone and the projector, new events, and cases added to events.

Views parse, authorise and call a service (polls/services/authoring.py, polls/casefile.py);
every save redirects (POST-redirect-GET) and every create form carries a one-time ref, so a
repeated submission finds what the first one made instead of making it again. A moderator sees
only his own cases and the events he moderates (cases.selectors, polls.selectors), and is told
"not found" alike for what is missing and for what is another's.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import forms as case_forms
from cases.forms import ACKNOWLEDGE, ACKNOWLEDGE_LABEL, acknowledge_field
from cases.identifiers import KINDS
from cases.models import Case, CaseImage
from cases.selectors import cases_visible_to, may_edit_case, unacknowledged_identifiers
from polls import casefile, selectors
from polls.admin import EventForm
from polls.errors import DomainError
from polls.forms import WorkspaceOptions, WorkspacePollForm
from polls.models import Event, EventStatus, Poll, PollKind, new_join_code
from polls.protocol.payloads import case_payload, poll_payload, teaching_point_payload
from polls.services import authoring

REF = "form_ref"  # the hidden one-time ref of a create form
CHOICE = "single multi likert ranking"
# The kinds a poll field belongs to (the page shows it only for those); others are every kind's.
KIND_OF_FIELD = {
    "max_choices": "multi",
    "numeric_min": "numeric",
    "numeric_max": "numeric",
    "numeric_unit": "numeric",
    "text_max_length": "text",
    "scale_from": "likert",
    "scale_to": "likert",
    "preferred_rationale": CHOICE,
}


class WorkspaceEventForm(EventForm):
    """A new event: its title and schedule (the admin's rules); the join code is generated. The
    rest of its settings keep their defaults (the admin edits them)."""

    profile_fields = None
    acknowledge_identifiers = None

    class Meta(EventForm.Meta):
        fields = ("title", "language", "starts_at", "time_zone", "duration_minutes")
        widgets = {"starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and not self.instance.code:
            self.instance.code = new_join_code()


def _ref(request: HttpRequest) -> str:
    """The create form's one-time ref, as the page sent it (a fresh one is put in each page)."""
    ref = request.POST.get(REF, "")
    return ref if len(ref) <= 64 else ""


def _editable_case(request: HttpRequest, case_id: int) -> Case:
    case = cases_visible_to(user=request.user).filter(pk=case_id).first()
    if case is None or not may_edit_case(user=request.user, case=case):
        raise Http404("No case of yours has that number.")
    return case


def _events_for_adding(user):
    return selectors.events_moderated_by(user=user).exclude(status=EventStatus.ENDED).order_by("-created_at")


# ------------------------------------------------------------------ home


@never_cache
@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The moderator's cases (the library) and events."""
    cases = cases_visible_to(user=request.user).prefetch_related("events").order_by("-updated_at", "id")
    events = selectors.events_moderated_by(user=request.user).order_by("-created_at")
    return render(
        request,
        "polls/author/home.html",
        {
            "cases": [c for c in cases if may_edit_case(user=request.user, case=c)],
            "events": events,
            "may_add_case": request.user.has_perm("cases.add_case"),
            "may_add_event": request.user.has_perm("polls.add_event"),
        },
    )


# ------------------------------------------------------------------ the case builder


def _case_formsets(request: HttpRequest | None, case: Case) -> tuple[dict, object, object]:
    data = request.POST if request is not None else None
    files = request.FILES if request is not None else None
    parts = {name: cls(data, instance=case, prefix=name) for name, _, cls, _ in case_forms.CASE_PARTS}
    references = case_forms.ReferenceFormSet(data, case=case, prefix="references") if case.pk else None
    images = case_forms.ImageFormSet(data, files, instance=case, prefix="images")
    return parts, references, images


def _poll_forms(poll: Poll | None, case: Case, data=None) -> tuple[WorkspacePollForm, object]:
    prefix = f"poll{poll.pk}" if poll else "newpoll"
    instance = poll or Poll(case=case, kind=PollKind.SINGLE)
    form = WorkspacePollForm(data, instance=instance, prefix=prefix)
    options = WorkspaceOptions(data, instance=instance, prefix=f"{prefix}-options")
    if poll is None and data is None:
        options.extra = 2
    return form, options


def _case_polls(case: Case) -> list[Poll]:
    return list(
        Poll.objects.filter(case=case)
        .select_related("event")
        .prefetch_related("options")
        .order_by("event_id", "position", "id")
    )


def _preview(case: Case, polls: list[Poll]) -> dict:
    """What the phones and the projector would receive: the same serializers as the live frames.
    Every hidden fact is shown as revealed: the author previews each state the room will see."""
    shown = Case.objects.prefetch_related(
        "staging", "history", "therapy_lines", "facts",
        Prefetch("images", queryset=CaseImage.objects.defer("content")),
        "teaching_points__references",
    ).get(pk=case.pk)  # fmt: skip
    body = case_payload(shown, revealed_facts={f.pk for f in shown.facts.all()})
    return {
        "case": body,
        "polls": [poll_payload(p) for p in polls],
        "teaching_points": [teaching_point_payload(t) for t in shown.teaching_points.all()],
        "image_path": reverse("author-case-image", args=[case.pk, 0])[:-1],
    }


def _builder(request: HttpRequest, case: Case, *, case_form=None, formsets=None, failed_poll=None, status=200):
    """The builder page; a form that failed keeps what was typed and shows why."""
    if case_form is None:
        case_form = case_forms.CaseForm(instance=case, prefix="case")
    parts, references, images = formsets or _case_formsets(None, case)
    polls = _case_polls(case) if case.pk else []
    poll_forms = []
    for poll in [*polls, None] if case.pk else []:
        key = poll.pk if poll else "new"
        form, options = failed_poll[1:] if failed_poll and failed_poll[0] == key else _poll_forms(poll, case)
        fields = [(form[name], KIND_OF_FIELD.get(name, "")) for name in form.fields if name != ACKNOWLEDGE]
        poll_forms.append((poll, form, options, fields))
    # The case's texts and its polls': the list a link from the console (go-live refused) lands on.
    findings = unacknowledged_identifiers(case=case, more=authoring.case_poll_texts(case)) if case.pk else []
    part_sections = [(name, heading, parts[name], noun) for name, heading, _, noun in case_forms.CASE_PARTS]
    context = {
        "acknowledge": {"name": ACKNOWLEDGE, "label": ACKNOWLEDGE_LABEL, "help": acknowledge_field().help_text},
        "case": case,
        "case_form": case_form,
        "parts": part_sections,
        "references": references,
        "images": images,
        "poll_forms": poll_forms,
        "ref": uuid.uuid4().hex,
        "findings": [(where, KINDS.get(kind, kind)) for where, kind, _ in findings],
        "kinds_of_fields": {
            "max_choices": "multi",
            "numeric_min": "numeric",
            "numeric_max": "numeric",
            "numeric_unit": "numeric",
            "text_max_length": "text",
            "scale_from": "likert",
            "scale_to": "likert",
        },  # fmt: skip
        "choice_kinds": "single multi likert ranking",
        "events": _events_for_adding(request.user) if case.pk else [],
        "preview": _preview(case, polls) if case.pk else None,
    }
    return render(request, "polls/author/case.html", context, status=status)


def _all_valid(*forms_) -> bool:
    return all([f.is_valid() for f in forms_ if f is not None])  # every form validated: all errors shown


def _save_case(request: HttpRequest, case: Case) -> HttpResponse:
    creating = case.pk is None
    case_form = case_forms.CaseForm(request.POST, instance=case, prefix="case")
    parts, references, images = _case_formsets(request, case)
    if not _all_valid(case_form, *parts.values(), references, images):
        messages.error(request, "Nothing was saved: correct what is marked below.")
        return _builder(request, case, case_form=case_form, formsets=(parts, references, images), status=400)
    try:
        saved = authoring.case_builder_save(
            user=request.user,
            case_form=case_form,
            parts=parts,
            references=references,
            images=images,
            acknowledged=case_forms.acknowledged_in(request.POST),
            ref=_ref(request) if creating else "",
        )
    except DomainError as refused:
        messages.error(request, refused.message)
        return _builder(request, case, case_form=case_form, formsets=(parts, references, images), status=409)
    messages.success(request, f"“{saved.title}” is saved.")
    return redirect("author-case", case_id=saved.pk)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("cases.add_case"):
        raise PermissionDenied
    case = Case()
    if request.method == "POST":
        return _save_case(request, case)
    return _builder(request, case)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def case_builder(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _editable_case(request, case_id)
    if request.method == "POST":
        return _save_case(request, case)
    return _builder(request, case)


@login_required
@require_POST
def poll_save(request: HttpRequest, case_id: int, poll_id: int | None = None) -> HttpResponse:
    """Create or change one poll of the case with its options (in the page's order)."""
    case = _editable_case(request, case_id)
    poll = None
    if poll_id is not None:
        poll = Poll.objects.filter(pk=poll_id, case=case).select_related("event").first()
        if poll is None:
            raise Http404("No such poll of this case.")
    form, options = _poll_forms(poll, case, request.POST)
    key = poll.pk if poll else "new"
    if form.is_valid():
        options.kind = form.cleaned_data.get("kind")
        options.generated = bool(form.scale_labels()) or options.kind not in CHOICE.split()
    if not (_all_valid(form, options)):
        messages.error(request, "The poll was not saved: correct what is marked in it.")
        return _builder(request, case, failed_poll=(key, form, options), status=400)
    try:
        saved = authoring.case_poll_save(
            user=request.user,
            case=case,
            poll_form=form,
            options=options,
            acknowledged=case_forms.acknowledged_in(request.POST),
            ref=_ref(request) if poll is None else "",
            labels=form.scale_labels(),
        )
    except DomainError as refused:
        messages.error(request, refused.message)
        return _builder(request, case, failed_poll=(key, form, options), status=409)
    messages.success(request, "The poll is saved.")
    return redirect(f"{reverse('author-case', args=[case.pk])}#poll-{saved.pk}")


@login_required
@require_POST
def poll_delete(request: HttpRequest, case_id: int, poll_id: int) -> HttpResponse:
    case = _editable_case(request, case_id)
    if not Poll.objects.filter(pk=poll_id, case=case).exists():
        # Already gone (a repeated click): nothing to do.
        return redirect("author-case", case_id=case.pk)
    try:
        authoring.case_poll_delete(user=request.user, poll_id=poll_id)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, "The poll is deleted.")
    return redirect("author-case", case_id=case.pk)


@never_cache
@login_required
@require_GET
def case_image(request: HttpRequest, case_id: int, image_id: int) -> HttpResponse:
    """An image of the author's own case, for the builder's preview."""
    case = _editable_case(request, case_id)
    image = CaseImage.objects.filter(pk=image_id, case=case).first()
    if image is None:
        raise Http404("No such image.")
    response = HttpResponse(bytes(image.content), content_type=image.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def case_export(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case with its library polls as a case file (docs/case-file.md)."""
    case = _editable_case(request, case_id)
    response = HttpResponse(casefile.case_file_bytes(case), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{slugify(case.title) or "case"}.json"'
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def case_import(request: HttpRequest) -> HttpResponse:
    """A case file becomes a library case with its polls, or nothing does and the page says why."""
    if not request.user.has_perm("cases.add_case"):
        raise PermissionDenied
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("case_file")
        try:
            if upload is None:
                raise casefile.CaseFileError(["Choose a case file (.json) to import."])
            if upload.size > casefile.MAX_BYTES:
                raise casefile.CaseFileError([f"The file is larger than {casefile.MAX_BYTES // 1024} KB."])
            data = casefile.read_case_file(upload.read())
            case = casefile.case_file_import(data=data, user=request.user)
        except casefile.CaseFileError as refused:
            errors = refused.errors
        else:
            messages.success(request, f"“{case.title}” is in your cases with its polls.")
            return redirect("author-case", case_id=case.pk)
    return render(
        request,
        "polls/author/import.html",
        {"errors": errors, "max_kb": casefile.MAX_BYTES // 1024},
        status=400 if errors else 200,
    )


@login_required
@require_POST
def case_add_to_event(request: HttpRequest, case_id: int) -> HttpResponse:
    """A copy of the case with its polls joins the chosen event's agenda."""
    case = _editable_case(request, case_id)
    try:
        event_id = int(request.POST.get("event", ""))
    except ValueError:
        messages.error(request, "Choose the event to add the case to.")
        return redirect("author-case", case_id=case.pk)
    try:
        copy = casefile.case_add_to_event(user=request.user, case_id=case.pk, event_id=event_id, ref=_ref(request))
    except DomainError as refused:
        messages.error(request, refused.message)
        return redirect("author-case", case_id=case.pk)
    event = Event.objects.get(agenda__case=copy)
    messages.success(
        request,
        f"A copy of “{case.title}” with its polls is on the agenda of {event.code}. "
        "Changes to this case from now on do not change that copy.",
    )
    return redirect("author-event", event_id=event.pk)


# ------------------------------------------------------------------ events


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def event_new(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("polls.add_event"):
        raise PermissionDenied
    form = WorkspaceEventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        event = authoring.event_create(user=request.user, event_form=form, ref=_ref(request))
        messages.success(request, f"{event.title} ({event.code}) is created as a draft.")
        return redirect("author-event", event_id=event.pk)
    return render(
        request,
        "polls/author/event_new.html",
        {"form": form, "ref": uuid.uuid4().hex},
        status=400 if form.is_bound else 200,
    )


@never_cache
@login_required
@require_GET
def event_page(request: HttpRequest, event_id: int) -> HttpResponse:
    event = selectors.events_moderated_by(user=request.user).filter(pk=event_id).first()
    if event is None:
        raise Http404("No event of yours has that number.")
    agenda = event.agenda.select_related("case").order_by("position", "id")
    polls = Poll.objects.filter(event=event).order_by("position", "id")
    return render(
        request,
        "polls/author/event.html",
        {
            "event": event,
            "agenda": agenda,
            "polls": polls,
            "presenter_url": f"{reverse('presenter', args=[event.code])}?key={event.presenter_token}",
        },
    )
