"""Authoring events and polls, and the live controls an organiser may need from the admin.

Poll state and result visibility are live state: the admin never edits them in a form. The
actions below call `polls.services` like every other interface, so changes are validated by the
state machine, audited and broadcast to connected screens.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import slugify

from cases import services as case_services
from cases.forms import ACKNOWLEDGE, IdentifierGuardForm, acknowledge_field, acknowledged
from cases.identifiers import KINDS
from cases.models import Case
from cases.selectors import cases_visible_to
from polls import casefile, selectors, services
from polls.errors import DomainError
from polls.forms import OptionFormSet, PollForm
from polls.forms import opened as _opened
from polls.models import (
    AgendaItem,
    Disclosure,
    Event,
    ModeratorAction,
    Option,
    Participant,
    Poll,
    ProfileQuestion,
    Vote,
    new_join_code,
)
from polls.profiles import BUILT_IN_CHOICES, BUILT_IN_KEYS, clean_options

LIVE_READONLY = ("state", "results_visible")


def _run(request: HttpRequest, objects, call: Callable[[object], object], describe: Callable[[object], str]):
    """Call a service per object; report successes once and each DomainError with its safe message."""
    done, refused = 0, []
    for obj in objects:
        event = obj if isinstance(obj, Event) else obj.event
        if not (request.user.is_superuser or selectors.user_moderates(user=request.user, event=event)):
            refused.append(f"{describe(obj)}: {DomainError('forbidden').message}")
            continue
        try:
            call(obj)
        except DomainError as exc:
            refused.append(f"{describe(obj)}: {exc.message}")
        else:
            done += 1
    return done, refused


def _report(modeladmin: admin.ModelAdmin, request: HttpRequest, done: int, refused: list[str], verb: str) -> None:
    if done:
        noun = modeladmin.model._meta.verbose_name if done == 1 else modeladmin.model._meta.verbose_name_plural
        modeladmin.message_user(request, f"{done} {noun} {verb}.", messages.SUCCESS)
    for message in refused:
        modeladmin.message_user(request, message, messages.ERROR)


# ------------------------------------------------------------------ scope


class EventScoped:
    """A user sees and changes only what belongs to events he moderates, in lists, forms, choices
    and filters alike (staff trusted with every event see all). `event_path` leads from the
    model to its event; None for Event itself."""

    event_path: str | None = "event"

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if selectors.moderates_all_events(user=request.user):
            return queryset
        events = selectors.events_moderated_by(user=request.user)
        if self.event_path is None:
            return queryset.filter(pk__in=events)
        return queryset.filter(**{f"{self.event_path}__in": events})

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        kwargs["queryset"] = _choices(db_field.related_model, request)
        if kwargs["queryset"] is None:
            del kwargs["queryset"]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _choices(model, request: HttpRequest):
    """The rows of `model` a user may pick in a form: those of his events and cases."""
    if model is Event:
        return selectors.events_moderated_by(user=request.user)
    if model is Case:
        return cases_visible_to(user=request.user)
    if model is Poll:
        return Poll.objects.filter(event__in=selectors.events_moderated_by(user=request.user))
    return None


# ------------------------------------------------------------------ events


class EventForm(forms.ModelForm):
    # On the add page only: the template a new event's own questions start from (edited below
    # the event once it is saved, ProfileQuestionInline).
    profile_fields = forms.MultipleChoiceField(
        choices=BUILT_IN_CHOICES,
        required=False,
        initial=BUILT_IN_KEYS,
        widget=forms.CheckboxSelectMultiple,
        label="Start with these profile questions",
        help_text="Asked at join, optional for participants; results can be split by them (small groups are "
        "merged). Once the event is saved, edit them, remove them or add your own under “Profile questions”.",
    )

    # Ticked here, it covers the polls edited inline on the event's page (cases.forms).
    acknowledge_identifiers = acknowledge_field()

    class Meta:
        model = Event
        fields = (
            "title", "code", "language", "moderators", "panelists", "min_cell_size",
            "questions_enabled", "questions_moderated", "questions_names_allowed",
            "starts_at", "time_zone", "duration_minutes", "credit_hours", "credit_statement", "followup_days",
        )  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "code" in self.fields and self.instance.pk is None and not self.initial.get("code"):
            # A long random code: guessing it is impractical (docs/protocol.md, Limits).
            self.initial["code"] = new_join_code()
            self.fields["code"].help_text = (
                "Generated: 8 random characters, impractical to guess. A shorter code you type "
                "(4–10 characters) is easier to read aloud but easier to guess."
            )
        # The schedule is optional: left empty, the zone is the server's and the length 90 minutes.
        # So is the language (English when left empty, as before events had one).
        for name in ("time_zone", "duration_minutes", "language"):
            if name in self.fields:
                self.fields[name].required = False
        if "starts_at" in self.fields and self.instance.starts_at and self.instance.time_zone:
            # Shown as the wall-clock time where the event happens, whatever the server's zone.
            local = self.instance.starts_at.astimezone(ZoneInfo(self.instance.time_zone))
            self.initial["starts_at"] = local.replace(tzinfo=None)

    def clean_time_zone(self) -> str:
        return self.cleaned_data.get("time_zone") or Event._meta.get_field("time_zone").default

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or Event._meta.get_field("language").default

    def clean_duration_minutes(self) -> int:
        return self.cleaned_data.get("duration_minutes") or Event._meta.get_field("duration_minutes").default

    def clean(self):
        cleaned = super().clean()
        starts, zone = cleaned.get("starts_at"), cleaned.get("time_zone")
        if starts is not None and zone:
            # The organiser typed a wall-clock time in the event's zone; the widget read it in the
            # server's. Same digits, the event's zone (a time skipped by a DST change moves on).
            wall_clock = timezone.make_naive(starts)
            cleaned["starts_at"] = timezone.make_aware(wall_clock, ZoneInfo(zone))
        return cleaned

    def clean_code(self) -> str:
        return selectors.normalise_code(self.cleaned_data["code"])

    def clean_profile_fields(self) -> list[str]:
        chosen = set(self.cleaned_data["profile_fields"])
        return [key for key in BUILT_IN_KEYS if key in chosen]  # the template's order


def _record_acknowledgements(request: HttpRequest, form, event_id: int, prefix: str) -> None:
    """With "I have checked the flagged text" ticked, every finding of the polls the page edits
    (their `where` starts with `prefix`) is acknowledged, each against its case."""
    if not acknowledged(form):
        return
    by_case: dict = {}
    for case, where, kind, print_ in selectors.event_unacknowledged_identifiers(event_id):
        if where.startswith(prefix):
            by_case.setdefault(case, []).append((where, kind, print_))
    for case, findings in by_case.items():
        case_services.identifiers_acknowledged(case=case, user=request.user, findings=findings)


def _complete_agenda(modeladmin: admin.ModelAdmin, request: HttpRequest, event: Event) -> None:
    """A poll's case joins the event's agenda, said in so many words (the console shows only the agenda)."""
    for case in services.agenda_complete(event_id=event.pk, user=request.user):
        modeladmin.message_user(
            request,
            f"“{case.title}” was not on the agenda of {event.code}: it has been added at the end, "
            "so that its polls appear in the console.",
            messages.WARNING,
        )


class ProfileQuestionForm(forms.ModelForm):
    """One of the event's profile questions; its answers typed one per line. Once the event has
    gone live, participants' answers refer to its key and options: those are fixed then (the
    label may still be corrected)."""

    options = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
        help_text="One answer per line, in the order phones show them.",
    )

    class Meta:
        model = ProfileQuestion
        fields = ("position", "key", "label", "options")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["options"] = "\n".join(self.instance.options)
            if self.instance.event.status != "draft":
                for name in ("key", "options"):
                    self.fields[name].disabled = True

    def clean_options(self) -> list[str]:
        value = self.cleaned_data["options"]
        if isinstance(value, list):  # a disabled field gives back its initial list
            return value
        if self.fields["options"].disabled:
            return list(self.instance.options)
        try:
            return clean_options(value.splitlines())
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_key(self) -> str:
        return self.cleaned_data["key"].strip().lower()


class ProfileQuestionInline(EventScoped, admin.TabularInline):
    model = ProfileQuestion
    form = ProfileQuestionForm  # two questions with one key: Django's formset names the duplicate
    fields = ("position", "key", "label", "options")
    verbose_name = "profile question"
    verbose_name_plural = "Profile questions (asked at join, optional for participants; results split by them)"
    extra = 0


class AgendaItemInline(EventScoped, admin.TabularInline):
    model = AgendaItem
    fields = ("position", "case")
    autocomplete_fields = ("case",)
    extra = 0


class DisclosureInline(EventScoped, admin.StackedInline):
    """The faculty's disclosures, shown at join and on the projector's disclosures screen."""

    model = Disclosure
    fields = ("position", "faculty_name", "role", "nothing_to_disclose", "relationships", "mitigation")
    extra = 0
    verbose_name = "faculty disclosure"


class PollInline(EventScoped, admin.TabularInline):
    model = Poll
    fk_name = "event"
    form = PollForm
    fields = ("position", "case", "question", "kind", "state", "results_visible")
    readonly_fields = LIVE_READONLY
    autocomplete_fields = ("case",)
    show_change_link = True  # options are edited on the poll's own page
    can_delete = False  # deleting a poll deletes its votes: do it from the poll list, with confirmation
    extra = 0


QUESTION_SETTINGS = {"questions_enabled", "questions_moderated", "questions_names_allowed"}


@admin.register(Event)
class EventAdmin(EventScoped, admin.ModelAdmin):
    event_path = None
    form = EventForm
    list_display = ("title", "code", "status", "created_at", "started_at", "ended_at")
    list_filter = ("status",)
    search_fields = ("title", "code")
    filter_horizontal = ("moderators", "panelists")
    live_fields = ("status", "current_case", "current_poll", "state_version", "created_at", "started_at", "ended_at")
    readonly_fields = (*live_fields, "screen_links")
    fieldsets = (
        (None, {"fields": ("title", "code", "language", "moderators")}),
        ("Patient identifiers in the polls below", {"fields": (ACKNOWLEDGE,)}),
        ("Schedule", {"fields": ("starts_at", "time_zone", "duration_minutes")}),
        (
            "Continuing-education credit and follow-up",
            {"fields": ("credit_hours", "credit_statement", "followup_days")},
        ),
        ("Audience", {"fields": ("panelists", "min_cell_size")}),
        ("Audience questions", {"fields": ("questions_enabled", "questions_moderated", "questions_names_allowed")}),
        ("Screens", {"fields": ("screen_links",)}),
        ("Live state (changed from the moderator console or the actions)", {"fields": live_fields}),
    )
    inlines = (DisclosureInline, ProfileQuestionInline, AgendaItemInline, PollInline)
    actions = ("start_events", "end_events", "rotate_presenter_keys", "add_standard_polls", "copy_events",
               "download_case_files")  # fmt: skip
    change_form_template = "admin/polls/event/change_form.html"  # adds "Import a case file"

    def get_urls(self):
        import_case = self.admin_site.admin_view(self.import_case_view)
        return [path("<path:object_id>/import-case/", import_case, name="polls_event_import_case"), *super().get_urls()]

    def import_case_view(self, request: HttpRequest, object_id: str):
        """Upload a case file (docs/case-file.md): the case, its teaching points and polls join the
        event's agenda, or nothing does and the page says why, item by item."""
        event = self.get_object(request, object_id)
        if event is None or not self.has_change_permission(request, event):
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
                case = casefile.case_file_import(data=data, user=request.user, event_id=event.pk)
            except casefile.CaseFileError as refused:
                errors = refused.errors
            else:
                self.message_user(
                    request, f"“{case.title}” is on the agenda of {event.code} with its polls.", messages.SUCCESS
                )
                flagged = [f for f in selectors.event_unacknowledged_identifiers(event.pk) if f[0] == case]
                if flagged:
                    self.message_user(
                        request,
                        f"{len(flagged)} passage(s) of the imported case may identify a patient: "
                        + "; ".join(f"{where} ({KINDS[kind]})" for _, where, kind, _ in flagged[:5])
                        + ". The event will not go live until each is removed or acknowledged.",
                        messages.WARNING,
                    )
                return redirect(reverse("admin:polls_event_change", args=[event.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import a case file into {event.code}",
            "event": event,
            "opts": self.model._meta,
            "errors": errors,
            "max_kb": casefile.MAX_BYTES // 1024,
        }
        return TemplateResponse(request, "admin/polls/event/import_case.html", context, status=400 if errors else 200)

    @admin.action(description="Add the standard evaluation and intent-to-change polls", permissions=["change"])
    def add_standard_polls(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        done, refused = _run(
            request,
            queryset.order_by("pk"),
            lambda event: services.standard_polls_add(event_id=event.pk, user=request.user),
            lambda event: event.code,
        )
        _report(self, request, done, refused, "have the standard evaluation polls")

    @admin.action(description="Copy as a new event (its cases, polls and settings)", permissions=["change"])
    def copy_events(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        for event in queryset.order_by("pk"):
            copy = casefile.event_copy(event_id=event.pk, user=request.user)
            self.message_user(
                request,
                format_html(
                    '{} copied as <a href="{}">{}</a> (code {}), a draft.',
                    event.code,
                    reverse("admin:polls_event_change", args=[copy.pk]),
                    copy.title,
                    copy.code,
                ),
                messages.SUCCESS,
            )

    @admin.action(description="Download its cases as case files (.json)", permissions=["change"])
    def download_case_files(self, request: HttpRequest, queryset: QuerySet[Event]):
        if queryset.count() != 1:
            self.message_user(request, "Choose one event to download its cases.", messages.ERROR)
            return None
        event = queryset.get()
        cases = list(event.cases.order_by("agenda_items__position"))
        if not cases:
            self.message_user(request, f"{event.code} has no case on its agenda.", messages.ERROR)
            return None
        services.export_recorded(event=event, user=request.user)
        files = {
            f"{event.code}-{n}-{slugify(case.title) or 'case'}.json": casefile.case_file_bytes(case, event=event)
            for n, case in enumerate(cases, start=1)
        }
        if len(files) == 1:
            ((name, content),) = files.items()
            response = HttpResponse(content, content_type="application/json")
        else:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, content in files.items():
                    archive.writestr(name, content)
            name, response = f"{event.code}-cases.zip", HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def get_inlines(self, request: HttpRequest, obj: Event | None):
        # A new event picks its questions from the template (the checkboxes); a saved one edits them.
        inlines = super().get_inlines(request, obj)
        return inlines if obj is not None else [i for i in inlines if i is not ProfileQuestionInline]

    def get_fieldsets(self, request: HttpRequest, obj: Event | None = None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets  # a saved event's questions are edited in their own inline
        # A new event: the built-in questions it starts with (the template), ticked by default.
        return [
            (name, {**options, "fields": (*options["fields"], "profile_fields")} if name == "Audience" else options)
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Event | None = None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and not selectors.may_change_moderators(user=request.user, event=obj):
            fields = (*fields, "moderators")  # the owner or an administrator decides who moderates
        return fields

    def save_model(self, request: HttpRequest, obj: Event, form, change: bool) -> None:
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)
        if change and QUESTION_SETTINGS & set(form.changed_data):
            services.questions_settings_changed(event_id=obj.pk, user=request.user)  # audited; screens told

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # Moderators change through the service (permission, audit log, consoles of removed
        # moderators closed), never through the form's own many-to-many save.
        wanted = form.cleaned_data.pop("moderators", None)
        super().save_related(request, form, formsets, change)
        _complete_agenda(self, request, form.instance)
        _record_acknowledgements(request, form, form.instance.pk, "Poll ")
        if wanted is not None:
            ids = {user.pk for user in wanted}
            if not change:
                ids.add(request.user.pk)  # whoever creates an event moderates it
            try:
                services.event_moderators_set(event_id=form.instance.pk, moderator_ids=ids, user=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        # Once the creator moderates the event (just above): the questions it starts with.
        if not change:
            services.profile_questions_from_template(
                event_id=form.instance.pk, keys=form.cleaned_data.get("profile_fields", []), user=request.user
            )
        elif any(f.model is ProfileQuestion and f.has_changed() for f in formsets):
            services.profile_questions_changed(event_id=form.instance.pk, user=request.user)

    @admin.display(description="links")
    def screen_links(self, obj: Event) -> str:
        if obj.pk is None:
            return "Available once the event is saved."
        code = {"code": obj.code}
        # Only the event's moderators reach this page (EventScoped): the key is theirs to see.
        presenter = f"{reverse('presenter', kwargs=code)}?key={obj.presenter_token}"
        return format_html(
            'Participants: <a href="{}">{}</a><br>Moderator console: <a href="{}">{}</a><br>'
            'Presenter (secret link, opens without login): <a href="{}">{}</a><br>'
            'Calendar invitation for moderators and faculty: <a href="{}">{}</a>',
            reverse("participant", kwargs=code),
            reverse("participant", kwargs=code),
            reverse("moderator", kwargs=code),
            reverse("moderator", kwargs=code),
            presenter,
            presenter,
            reverse("event-invitation", kwargs=code),
            reverse("event-invitation", kwargs=code),
        )

    @admin.action(description="Start (go live)", permissions=["change"])
    def start_events(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        done, refused = _run(
            request, queryset, lambda e: services.event_start(event_id=e.pk, user=request.user), lambda e: e.code
        )
        _report(self, request, done, refused, "started")

    @admin.action(description="End", permissions=["change"])
    def end_events(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        done, refused = _run(
            request, queryset, lambda e: services.event_end(event_id=e.pk, user=request.user), lambda e: e.code
        )
        _report(self, request, done, refused, "ended")

    @admin.action(description="Rotate the presenter key (ends the old link's projectors)", permissions=["change"])
    def rotate_presenter_keys(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        done, refused = _run(
            request,
            queryset,
            lambda e: services.presenter_key_rotate(event_id=e.pk, user=request.user),
            lambda e: e.code,
        )
        _report(self, request, done, refused, "have a new presenter key")


# ------------------------------------------------------------------- polls


class OptionInline(admin.TabularInline):
    model = Option
    form = IdentifierGuardForm
    formset = OptionFormSet
    fields = ("position", "label", "is_preferred")
    extra = 0

    def get_readonly_fields(self, request, obj=None):
        # The preferred flag stays editable: marking the evidence answer is teaching, not voting.
        return ("position", "label") if _opened(obj) else ()

    def has_add_permission(self, request, obj=None):
        return not _opened(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _opened(obj) and super().has_delete_permission(request, obj)


@admin.register(Poll)
class PollAdmin(EventScoped, admin.ModelAdmin):
    form = PollForm
    list_display = ("question", "event", "case", "state", "results_visible")
    list_filter = ("state", "results_visible", ("event", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("event", "case")
    search_fields = ("question", "event__code", "event__title")
    autocomplete_fields = ("event", "case", "round_of")
    fields = (
        "event",
        "case",
        "position",
        "question",
        ("kind", "purpose"),
        "max_choices",
        ("numeric_min", "numeric_max", "numeric_unit"),
        "text_max_length",
        "ask_confidence",
        "preferred_rationale",
        ACKNOWLEDGE,
        ("round_of", "round_number"),
        ("state", "results_visible"),
        ("opened_at", "closed_at"),
    )
    readonly_fields = (*LIVE_READONLY, "opened_at", "closed_at")
    inlines = (OptionInline,)
    actions = ("open_polls", "close_polls", "reveal_results", "hide_results", "duplicate_polls")

    def _act(self, request: HttpRequest, queryset: QuerySet[Poll], service, verb: str) -> None:
        done, refused = _run(
            request,
            queryset.select_related("event").order_by("event_id", "position", "id"),
            lambda p: service(event_id=p.event_id, poll_id=p.pk, user=request.user),
            lambda p: f"“{p.question}”",
        )
        _report(self, request, done, refused, verb)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        _complete_agenda(self, request, form.instance.event)
        _record_acknowledgements(request, form, form.instance.event_id, f"Poll {form.instance.pk}:")

    @admin.action(description="Open", permissions=["change"])
    def open_polls(self, request, queryset):
        self._act(request, queryset, services.poll_open, "opened")

    @admin.action(description="Close", permissions=["change"])
    def close_polls(self, request, queryset):
        self._act(request, queryset, services.poll_close, "closed")

    @admin.action(description="Reveal results", permissions=["change"])
    def reveal_results(self, request, queryset):
        self._act(request, queryset, services.results_reveal, "now show their results")

    @admin.action(description="Hide results", permissions=["change"])
    def hide_results(self, request, queryset):
        self._act(request, queryset, services.results_hide, "now hide their results")

    @admin.action(description="Duplicate as a new draft", permissions=["add"])
    def duplicate_polls(self, request, queryset):
        self._act(request, queryset, services.poll_duplicate, "duplicated")


# ------------------------------------------------------- read-only records


class ReadOnlyAdmin(EventScoped, admin.ModelAdmin):
    """Records written only by services: visible to staff with the view permission, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ModeratorAction)
class ModeratorActionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event", "user", "action", "target")
    list_filter = ("action", ("event", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("event", "user")
    search_fields = ("event__code", "action", "target", "user__username")
    date_hierarchy = "created_at"
    fields = list_display


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "event", "joined_at", "vote_count")
    list_filter = (("event", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("event",)
    fields = ("event", "joined_at", "vote_count")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(vote_total=Count("votes"))

    @admin.display(description="votes", ordering="vote_total")
    def vote_count(self, obj: Participant) -> int:
        return obj.vote_total


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    # Identifiers and option labels only: no question or case text in the ballot lists.
    event_path = "poll__event"
    list_display = ("__str__", "event_code", "poll_ref", "participant", "chosen", "updated_at")
    list_filter = (("poll__event", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("poll__event", "participant")
    fields = ("event_code", "poll_ref", "participant", "chosen", "created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("options")

    @admin.display(description="event", ordering="poll__event__code")
    def event_code(self, obj: Vote) -> str:
        return obj.poll.event.code

    @admin.display(description="poll", ordering="poll_id")
    def poll_ref(self, obj: Vote) -> str:
        return f"Poll {obj.poll_id}"

    @admin.display(description="choices")
    def chosen(self, obj: Vote) -> str:
        return ", ".join(option.label for option in obj.options.all())
