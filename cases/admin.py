"""Authoring cases: one page per case with its parts inline; teaching points carry their references."""

from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.utils.html import format_html_join

from cases import services
from cases.forms import ACKNOWLEDGE, CaseImageForm, IdentifierGuardForm, acknowledge_field, acknowledged
from cases.models import (
    Case,
    CaseFact,
    CaseImage,
    HistoryItem,
    Reference,
    StagingItem,
    TeachingPoint,
    TherapyLine,
)
from cases.selectors import cases_visible_to, may_edit_case, unacknowledged_identifiers


class CaseScoped:
    """A user sees the cases he wrote and those of events he moderates; he edits those that are
    his alone (cases.selectors.may_edit_case). `case_path` leads from the model to its case."""

    case_path: str | None = None

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        visible = cases_visible_to(user=request.user)
        if self.case_path is None:
            return queryset.filter(pk__in=visible)
        return queryset.filter(**{f"{self.case_path}__in": visible})

    def _case_of(self, obj):
        if obj is None:
            return None
        return obj if self.case_path is None else getattr(obj, self.case_path)

    def has_change_permission(self, request, obj=None):
        case = self._case_of(obj)
        allowed = super().has_change_permission(request, obj)
        return allowed and (case is None or may_edit_case(user=request.user, case=case))

    def has_delete_permission(self, request, obj=None):
        case = self._case_of(obj)
        allowed = super().has_delete_permission(request, obj)
        return allowed and (case is None or may_edit_case(user=request.user, case=case))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Case:
            kwargs["queryset"] = cases_visible_to(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StagingItemInline(admin.TabularInline):
    model = StagingItem
    form = IdentifierGuardForm
    fields = ("position", "system", "value")
    extra = 0


class HistoryItemInline(admin.TabularInline):
    model = HistoryItem
    form = IdentifierGuardForm
    fields = ("position", "text")
    extra = 0


class TherapyLineInline(admin.StackedInline):
    model = TherapyLine
    form = IdentifierGuardForm
    fields = (("line_number", "regimen"), "agents", ("transplant", "best_response"), "outcome")
    extra = 0


class CaseFactInline(admin.TabularInline):
    model = CaseFact
    form = IdentifierGuardForm
    fields = ("position", "label", "text", "hidden_until_revealed")
    extra = 0


class TeachingPointInline(admin.StackedInline):
    model = TeachingPoint
    form = IdentifierGuardForm
    fields = ("position", "title", "text")
    extra = 0
    show_change_link = True  # references are edited on the teaching point's own page


class CaseImageInline(admin.StackedInline):
    model = CaseImage
    form = CaseImageForm
    fields = ("position", "upload", "size", "caption", "alt_text", "no_identifiers_in_pixels")
    readonly_fields = ("size",)
    extra = 0

    @admin.display(description="Stored")
    def size(self, obj: CaseImage) -> str:
        if obj is None or not obj.pk:
            return "—"
        return f"{obj.width} × {obj.height} px, WebP, no metadata"


class GuardedForm(IdentifierGuardForm):
    acknowledge_identifiers = acknowledge_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "language" in self.fields:  # English when left empty, as before cases had one
            self.fields["language"].required = False

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or Case._meta.get_field("language").default


@admin.register(Case)
class CaseAdmin(CaseScoped, admin.ModelAdmin):
    list_display = ("title", "disease", "patient_age", "patient_sex", "ecog", "updated_at")
    list_filter = ("disease",)
    search_fields = ("title", "disease", "diagnosis")
    readonly_fields = ("created_at", "updated_at", "acknowledged_findings")
    fieldsets = (
        (None, {"fields": ("title", "language", "disease", "diagnosis")}),
        ("Patient", {"fields": (("patient_age", "patient_sex"), ("years_since_diagnosis", "ecog"))}),
        ("Discussion", {"fields": ("current_status", "clinical_question")}),
        ("Patient identifiers", {"fields": (ACKNOWLEDGE, "acknowledged_findings")}),
        ("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    form = GuardedForm
    inlines = (
        StagingItemInline,
        HistoryItemInline,
        TherapyLineInline,
        CaseFactInline,
        TeachingPointInline,
        CaseImageInline,
    )

    def save_model(self, request, obj: Case, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Acknowledged so far")
    def acknowledged_findings(self, obj: Case | None) -> str:
        """Who acknowledged which kind of finding where, and when (never the text)."""
        rows = list(obj.identifier_acknowledgements.select_related("user")[:50]) if obj and obj.pk else []
        if not rows:
            return "None"
        return format_html_join(
            "", "<div>{}: {} — {} ({})</div>", ((r.at.date(), r.where, r.kind, r.user or "unknown") for r in rows)
        )

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if acknowledged(form):
            findings = unacknowledged_identifiers(case=form.instance)
            services.identifiers_acknowledged(case=form.instance, user=request.user, findings=findings)


class ReferenceInline(admin.StackedInline):
    model = Reference
    fields = ("position", "citation", ("nct", "pmid", "doi"), "url")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default, chosen now
    extra = 0


@admin.register(TeachingPoint)
class TeachingPointAdmin(CaseScoped, admin.ModelAdmin):
    case_path = "case"
    list_display = ("title", "case", "position", "reference_count")
    list_select_related = ("case",)
    list_filter = (("case", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("title", "text", "case__title")
    autocomplete_fields = ("case",)
    # References are not guarded: a citation names its authors, who are not patients.
    form = GuardedForm
    fields = ("case", "position", "title", "text", ACKNOWLEDGE)
    inlines = (ReferenceInline,)

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if acknowledged(form):
            mine = f"Teaching point {form.instance.position}:"
            findings = [f for f in unacknowledged_identifiers(case=form.instance.case) if f[0].startswith(mine)]
            services.identifiers_acknowledged(case=form.instance.case, user=request.user, findings=findings)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(reference_total=Count("references"))

    @admin.display(description="references", ordering="reference_total")
    def reference_count(self, obj: TeachingPoint) -> int:
        return obj.reference_total
