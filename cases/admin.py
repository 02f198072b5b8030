"""Authoring cases: one page per case with its parts inline; teaching points carry their references."""

from django.contrib import admin
from django.db import models
from django.db.models import Count

from cases.models import Case, CaseFact, HistoryItem, Reference, StagingItem, TeachingPoint, TherapyLine


class StagingItemInline(admin.TabularInline):
    model = StagingItem
    fields = ("position", "system", "value")
    extra = 0


class HistoryItemInline(admin.TabularInline):
    model = HistoryItem
    fields = ("position", "text")
    extra = 0


class TherapyLineInline(admin.StackedInline):
    model = TherapyLine
    fields = (("line_number", "regimen"), "agents", ("transplant", "best_response"), "outcome")
    extra = 0


class CaseFactInline(admin.TabularInline):
    model = CaseFact
    fields = ("position", "label", "text", "hidden_until_revealed")
    extra = 0


class TeachingPointInline(admin.StackedInline):
    model = TeachingPoint
    fields = ("position", "title", "text")
    extra = 0
    show_change_link = True  # references are edited on the teaching point's own page


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("title", "disease", "patient_age", "patient_sex", "ecog", "updated_at")
    list_filter = ("disease",)
    search_fields = ("title", "disease", "diagnosis")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("title", "disease", "diagnosis")}),
        ("Patient", {"fields": (("patient_age", "patient_sex"), ("years_since_diagnosis", "ecog"))}),
        ("Discussion", {"fields": ("current_status", "clinical_question")}),
        ("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    inlines = (StagingItemInline, HistoryItemInline, TherapyLineInline, CaseFactInline, TeachingPointInline)


class ReferenceInline(admin.StackedInline):
    model = Reference
    fields = ("position", "citation", ("nct", "pmid", "doi"), "url")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default, chosen now
    extra = 0


@admin.register(TeachingPoint)
class TeachingPointAdmin(admin.ModelAdmin):
    list_display = ("title", "case", "position", "reference_count")
    list_select_related = ("case",)
    list_filter = ("case",)
    search_fields = ("title", "text", "case__title")
    autocomplete_fields = ("case",)
    fields = ("case", "position", "title", "text")
    inlines = (ReferenceInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(reference_total=Count("references"))

    @admin.display(description="references", ordering="reference_total")
    def reference_count(self, obj: TeachingPoint) -> int:
        return obj.reference_total
