"""Authoring forms that keep patient identifiers out of case text (issue 16)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from cases import images
from cases.identifiers import KINDS, stored_findings
from cases.models import Case, CaseFact, CaseImage, HistoryItem, Reference, StagingItem, TeachingPoint, TherapyLine

# The one checkbox on an authoring page that lets flagged text be saved; inline forms read it
# from the page's data, so one tick covers the case and its parts.
ACKNOWLEDGE = "acknowledge_identifiers"
ACKNOWLEDGE_LABEL = "I have checked the flagged text: it identifies no patient"
OLDEST_AGE = 90  # HIPAA Safe Harbor: every age over 89 is one category, "90 or older"


def acknowledge_field() -> forms.BooleanField:
    return forms.BooleanField(
        required=False,
        label=ACKNOWLEDGE_LABEL,
        help_text="Only if the guard flags text that is not about a patient (a trial date, a place name in "
        "a guideline). Each acknowledgement is recorded with your name, never with the text.",
    )


def describe(text: str, findings) -> str:
    """What the author is told: the kind and the stretch of his own text (shown to him, never logged)."""
    parts = [f"{KINDS[f.kind]} (“{text[f.start : f.end]}”)" for f in findings]
    return (
        "This looks like a patient identifier: "
        + "; ".join(parts)
        + f". Remove it, or tick “{ACKNOWLEDGE_LABEL}” if it is not about a patient."
    )


class IdentifierGuardForm(forms.ModelForm):
    """Refuses changed text that looks like a patient identifier unless the author acknowledges it.

    Only fields the author changed are read: text acknowledged once is not flagged on every later
    save. With the box ticked the page saves, and its admin records an acknowledgement of every
    finding of what it edits (cases.services.identifiers_acknowledged), unchanged text included:
    text written before the guard existed is flagged again when its event goes live.
    """

    guard_exclude: tuple[str, ...] = ()

    def clean(self):
        cleaned = super().clean()
        acknowledged = acknowledged_in(self.data)
        for name in self.changed_data:
            field = self.fields.get(name)
            value = cleaned.get(name)
            if field is None or field.disabled or name in self.guard_exclude or name == ACKNOWLEDGE:
                continue
            if name == "patient_age" and isinstance(value, int) and value > OLDEST_AGE:
                self.add_error(name, f"Enter {OLDEST_AGE} for any age over 89: older ages identify a patient.")
                continue
            if not isinstance(value, str):
                continue
            (findings,) = stored_findings([value])
            if findings and not acknowledged:
                self.add_error(name, ValidationError(describe(value, findings), code="patient_identifier"))
        return cleaned


def acknowledged_in(data) -> bool:
    """Whether a page's data has "I have checked the flagged text" ticked (one box per page or
    per form, named without a form prefix so that it covers every form it is posted with)."""
    return str(data.get(ACKNOWLEDGE, "")).lower() in {"on", "true", "1"}


def acknowledged(form) -> bool:
    """Whether an authoring page was saved with "I have checked the flagged text" ticked."""
    return bool(form.cleaned_data.get(ACKNOWLEDGE))


class CaseImageForm(IdentifierGuardForm):
    """An upload becomes a case image only through cases.images (pixels only, no metadata)."""

    upload = forms.FileField(
        required=False,
        label="Image file",
        help_text=f"PNG, JPEG or WebP, at most {images.MAX_UPLOAD_BYTES // 2**20} MB; stored without its metadata.",
    )
    no_identifiers_in_pixels = forms.BooleanField(
        required=True,
        label="No name, date, record number or face can be seen in the image",
        help_text="Metadata is removed on upload; what is drawn in the pixels (a scanner's label) is not.",
    )

    class Meta:
        model = CaseImage
        fields = ("position", "upload", "caption", "alt_text", "no_identifiers_in_pixels")

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if upload is None:
            if self.instance.pk is None and not self.errors:
                self.add_error("upload", "Choose the image file.")
            return cleaned
        if upload.size > images.MAX_UPLOAD_BYTES:
            self.add_error("upload", f"The image is larger than {images.MAX_UPLOAD_BYTES // 2**20} MB.")
            return cleaned
        try:
            prepared = images.prepare_image(upload.read())
        except images.ImageRefused as refused:
            self.add_error("upload", str(refused))
            return cleaned
        self.instance.content = prepared.content
        self.instance.content_type = prepared.content_type
        self.instance.width, self.instance.height = prepared.width, prepared.height
        return cleaned


# ------------------------------------------------------------------ the authoring workspace


class CaseForm(IdentifierGuardForm):
    """The case itself, on the workspace's case builder (its parts are the formsets below)."""

    acknowledge_identifiers = acknowledge_field()

    class Meta:
        model = Case
        fields = (
            "title", "disease", "diagnosis", "patient_age", "patient_sex", "years_since_diagnosis", "ecog",
            "current_status", "clinical_question",
        )  # fmt: skip
        widgets = {
            "current_status": forms.Textarea(attrs={"rows": 3}),
            "clinical_question": forms.Textarea(attrs={"rows": 2}),
        }


class PageOrderMixin:
    """Rows in the order the page shows them: the page moves rows and numbers a hidden field; the
    server turns that order into positions (never typed). A blank row the page only numbered is
    still blank: it is neither validated nor saved."""

    ordering_widget = forms.HiddenInput

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        numbered_only = {forms.formsets.ORDERING_FIELD_NAME}

        def has_changed() -> bool:
            return bool(set(form.changed_data) - numbered_only)

        form.has_changed = has_changed
        return form


class OrderedFormSet(PageOrderMixin, forms.BaseInlineFormSet):
    pass


class WorkspaceImageForm(CaseImageForm):
    class Meta(CaseImageForm.Meta):
        fields = ("upload", "caption", "alt_text", "no_identifiers_in_pixels")


def _parts(model, fields, form=IdentifierGuardForm, widgets=None):
    return forms.inlineformset_factory(
        Case, model, form=form, formset=OrderedFormSet, fields=fields, extra=1, can_order=True, can_delete=True,
        widgets=widgets,
    )  # fmt: skip


StagingFormSet = _parts(StagingItem, ("system", "value"))
HistoryFormSet = _parts(HistoryItem, ("text",))
TherapyFormSet = _parts(TherapyLine, ("regimen", "agents", "transplant", "best_response", "outcome"))
FactFormSet = _parts(
    CaseFact, ("label", "text", "hidden_until_revealed"), widgets={"text": forms.Textarea(attrs={"rows": 2})}
)
PointFormSet = _parts(TeachingPoint, ("title", "text"), widgets={"text": forms.Textarea(attrs={"rows": 3})})
ImageFormSet = forms.inlineformset_factory(
    Case, CaseImage, form=WorkspaceImageForm, formset=OrderedFormSet, extra=1, can_order=True, can_delete=True
)

# The parts of a case, in the order the builder shows them: (name, heading, formset class, what a row is).
CASE_PARTS = (
    ("staging", "Staging", StagingFormSet, "staging item"),
    ("history", "Medical history", HistoryFormSet, "history item"),
    ("therapy_lines", "Lines of therapy, in order", TherapyFormSet, "line of therapy"),
    ("facts", "Findings (hidden until revealed, if ticked)", FactFormSet, "finding"),
    ("teaching_points", "Teaching points", PointFormSet, "teaching point"),
)


class ReferenceForm(forms.ModelForm):
    """A reference of one of the case's saved teaching points (a citation names its authors, not
    a patient: not read by the identifier guard)."""

    url = forms.URLField(required=False, max_length=200, assume_scheme="https")  # Django 6's default, chosen now

    class Meta:
        model = Reference
        fields = ("teaching_point", "citation", "pmid", "doi", "nct", "url")
        widgets = {"citation": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teaching_point"].queryset = TeachingPoint.objects.filter(case=case)


class BaseReferenceFormSet(PageOrderMixin, forms.BaseModelFormSet):
    def __init__(self, *args, case: Case, **kwargs):
        self.case = case
        kwargs.setdefault(
            "queryset",
            Reference.objects.filter(teaching_point__case=case).order_by("teaching_point__position", "position", "id"),
        )
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "case": self.case}


ReferenceFormSet = forms.modelformset_factory(
    Reference, form=ReferenceForm, formset=BaseReferenceFormSet, extra=1, can_order=True, can_delete=True
)
