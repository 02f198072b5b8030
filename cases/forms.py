"""Authoring forms that keep patient identifiers out of case text (issue 16)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from cases import images
from cases.identifiers import KINDS, find_identifiers
from cases.models import CaseImage

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
        acknowledged = str(self.data.get(ACKNOWLEDGE, "")).lower() in {"on", "true", "1"}
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
            findings = find_identifiers(value)
            if findings and not acknowledged:
                self.add_error(name, ValidationError(describe(value, findings), code="patient_identifier"))
        return cleaned


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
