"""Authoring events and polls, and the live controls an organiser may need from the admin.

Poll state and result visibility are live state: the admin never edits them in a form. The
actions below call `polls.services` like every other interface, so changes are validated by the
state machine, audited and broadcast to connected screens.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from cases import services as case_services
from cases.forms import ACKNOWLEDGE, IdentifierGuardForm, acknowledge_field
from cases.models import Case
from cases.selectors import cases_visible_to
from polls import selectors, services
from polls.errors import DomainError
from polls.models import (
    AgendaItem,
    Event,
    ModeratorAction,
    Option,
    Participant,
    Poll,
    PollState,
    Vote,
    new_join_code,
)
from polls.profiles import PROFILE_CHOICES

LIVE_READONLY = ("state", "results_visible")
AUTHORED_ONCE_OPENED = (
    "event", "case", "question", "kind", "round_of", "round_number",
    "max_choices", "numeric_min", "numeric_max", "text_max_length", "ask_confidence",
)  # fmt: skip


def _opened(poll: Poll | None) -> bool:
    return poll is not None and poll.pk is not None and poll.state != PollState.DRAFT


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
    profile_fields = forms.MultipleChoiceField(
        choices=PROFILE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Profile questions at join",
        help_text="Optional for participants; results can be split by them (small groups are merged).",
    )

    # Ticked here, it covers the polls edited inline on the event's page (cases.forms).
    acknowledge_identifiers = acknowledge_field()

    class Meta:
        model = Event
        fields = (
            "title", "code", "moderators", "panelists", "profile_fields", "min_cell_size",
            "questions_enabled", "questions_moderated", "questions_names_allowed",
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

    def clean_code(self) -> str:
        return selectors.normalise_code(self.cleaned_data["code"])

    def clean_profile_fields(self) -> list[str]:
        chosen = set(self.cleaned_data["profile_fields"])
        return [key for key, _ in PROFILE_CHOICES if key in chosen]  # catalogue order


def _record_acknowledgements(request: HttpRequest, formsets) -> None:
    """Acknowledged identifier findings of polls edited inline on an event's page, per poll's case."""
    for formset in formsets:
        if formset.model is not Poll:
            continue
        for inline in formset.forms:
            findings = getattr(inline, "identifier_findings", [])
            if findings and inline.instance.pk:
                poll = inline.instance
                where = [(f"Poll “{poll.question[:50]}”: {label}", kind) for label, kind in findings]
                case_services.identifiers_acknowledged(case=poll.case, user=request.user, findings=where)


def _complete_agenda(modeladmin: admin.ModelAdmin, request: HttpRequest, event: Event) -> None:
    """A poll's case joins the event's agenda, said in so many words (the console shows only the agenda)."""
    for case in services.agenda_complete(event_id=event.pk, user=request.user):
        modeladmin.message_user(
            request,
            f"“{case.title}” was not on the agenda of {event.code}: it has been added at the end, "
            "so that its polls appear in the console.",
            messages.WARNING,
        )


class AgendaItemInline(EventScoped, admin.TabularInline):
    model = AgendaItem
    fields = ("position", "case")
    autocomplete_fields = ("case",)
    extra = 0


class PollForm(IdentifierGuardForm):
    """Once a poll has been opened, what it asks and where it belongs are fixed: votes refer to them.
    What it asks is read by the patient-identifier guard like the case's own text."""

    acknowledge_identifiers = acknowledge_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if _opened(self.instance):
            for name in AUTHORED_ONCE_OPENED:
                if name in self.fields:
                    self.fields[name].disabled = True


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
        (None, {"fields": ("title", "code", "moderators")}),
        ("Patient identifiers in the polls below", {"fields": (ACKNOWLEDGE,)}),
        ("Audience", {"fields": ("panelists", "profile_fields", "min_cell_size")}),
        ("Audience questions", {"fields": ("questions_enabled", "questions_moderated", "questions_names_allowed")}),
        ("Screens", {"fields": ("screen_links",)}),
        ("Live state (changed from the moderator console or the actions)", {"fields": live_fields}),
    )
    inlines = (AgendaItemInline, PollInline)
    actions = ("start_events", "end_events", "rotate_presenter_keys")

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
        _record_acknowledgements(request, formsets)
        if wanted is None:
            return
        ids = {user.pk for user in wanted}
        if not change:
            ids.add(request.user.pk)  # whoever creates an event moderates it
        try:
            services.event_moderators_set(event_id=form.instance.pk, moderator_ids=ids, user=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    @admin.display(description="links")
    def screen_links(self, obj: Event) -> str:
        if obj.pk is None:
            return "Available once the event is saved."
        code = {"code": obj.code}
        # Only the event's moderators reach this page (EventScoped): the key is theirs to see.
        presenter = f"{reverse('presenter', kwargs=code)}?key={obj.presenter_token}"
        return format_html(
            'Participants: <a href="{}">{}</a><br>Moderator console: <a href="{}">{}</a><br>'
            'Presenter (secret link, opens without login): <a href="{}">{}</a>',
            reverse("participant", kwargs=code),
            reverse("participant", kwargs=code),
            reverse("moderator", kwargs=code),
            reverse("moderator", kwargs=code),
            presenter,
            presenter,
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
        "kind",
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
        findings = case_services.acknowledged_in(form, formsets)
        findings = [(f"Poll “{form.instance.question[:50]}”: {where}", kind) for where, kind in findings]
        case_services.identifiers_acknowledged(case=form.instance.case, user=request.user, findings=findings)

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
