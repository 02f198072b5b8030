"""A de-identified patient case, structured so each part can be shown, revealed and reused."""

from django.conf import settings
from django.db import models


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other / not stated"


class Case(models.Model):
    title = models.CharField(max_length=120, help_text="e.g. “Case Summary 2”")
    disease = models.CharField(max_length=120, help_text="e.g. Multiple myeloma")
    patient_age = models.PositiveSmallIntegerField()
    patient_sex = models.CharField(max_length=8, choices=Sex.choices)
    diagnosis = models.CharField(max_length=255, help_text="e.g. IgG-lambda multiple myeloma")
    years_since_diagnosis = models.PositiveSmallIntegerField(null=True, blank=True)
    ecog = models.PositiveSmallIntegerField(
        "ECOG performance status", null=True, blank=True, help_text="0 (fully active) to 4"
    )
    current_status = models.TextField(blank=True, help_text="Where the patient is now.")
    clinical_question = models.TextField(blank=True, help_text="The question put to the audience.")
    # The case is its author's text in one language; pages mark it with lang="…" (issue 18) while
    # the interface around it follows the reader.
    language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text="The language the case is written in.",
    )
    # Its author sees and edits it before it is on any event's agenda.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ecog__lte=4), name="case_ecog_0_to_4"),
            models.CheckConstraint(condition=models.Q(patient_age__lte=120), name="case_age_plausible"),
        ]

    def __str__(self) -> str:
        return self.title


class StagingItem(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="staging")
    system = models.CharField(max_length=40, help_text="e.g. R-ISS")
    value = models.CharField(max_length=40, help_text="e.g. 2 or III")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.system} {self.value}"


class HistoryItem(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="history")
    text = models.CharField(max_length=255, help_text="e.g. Hypertension (well controlled)")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "medical history item"

    def __str__(self) -> str:
        return self.text


class TherapyLine(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="therapy_lines")
    line_number = models.PositiveSmallIntegerField(help_text="1 for first line, 2 for second…")
    regimen = models.CharField(max_length=120, help_text="e.g. VRd, then lenalidomide maintenance")
    agents = models.CharField(max_length=255, blank=True, help_text="Comma-separated agents")
    transplant = models.CharField(max_length=120, blank=True, help_text="e.g. Autologous SCT")
    best_response = models.CharField(max_length=60, blank=True, help_text="e.g. VGPR")
    outcome = models.CharField(max_length=255, blank=True, help_text="How it ended, e.g. progression on maintenance")

    class Meta:
        ordering = ["line_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "line_number"], name="therapy_line_unique_number"),
        ]

    def __str__(self) -> str:
        return f"Line {self.line_number}: {self.regimen}"

    @property
    def agent_list(self) -> list[str]:
        return [a.strip() for a in self.agents.split(",") if a.strip()]


class CaseFact(models.Model):
    """An extra item of the case; a hidden one appears when the moderator reveals it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="facts")
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=80, help_text="e.g. New cytogenetics")
    text = models.TextField()
    hidden_until_revealed = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class TeachingPoint(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="teaching_points")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=160)
    text = models.TextField()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class Reference(models.Model):
    teaching_point = models.ForeignKey(TeachingPoint, on_delete=models.CASCADE, related_name="references")
    position = models.PositiveSmallIntegerField(default=0)
    citation = models.CharField(max_length=500)
    pmid = models.CharField("PMID", max_length=12, blank=True)
    doi = models.CharField("DOI", max_length=120, blank=True)
    nct = models.CharField("NCT number", max_length=11, blank=True)
    url = models.URLField(blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(nct="") | models.Q(nct__regex=r"^NCT[0-9]{8}$"), name="reference_nct_format"
            ),
            models.CheckConstraint(condition=models.Q(pmid__regex=r"^[0-9]*$"), name="reference_pmid_digits"),
        ]

    def __str__(self) -> str:
        return self.citation[:80]


class IdentifierAcknowledgement(models.Model):
    """An author's word that text the identifier guard flagged identifies no patient.

    Who, when, where and which kind of identifier, never the text itself: what the guard flags is
    never written anywhere but the field the author typed it in (cases/identifiers.py)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="identifier_acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    where = models.CharField(max_length=120, help_text="The part and field, e.g. “Hidden fact 2: text”.")
    kind = models.CharField(max_length=20, help_text="The kind of identifier (cases.identifiers.KINDS).")
    # A keyed hash of the kind and the flagged text (cases.identifiers.fingerprint): it tells
    # whether a finding at go-live was acknowledged, without keeping the text.
    fingerprint = models.CharField(max_length=64, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}"


class IdentifierScan(models.Model):
    """What the identifier guard found in one text, keyed by a keyed digest of that text and the
    guard's version (cases.identifiers.stored_findings): a text is read by the recognizers once.

    Why: Presidio imports spaCy, seconds of CPU and about 75 MB per process. Texts are read when
    an author saves them; an event going live then reads these rows on the live server's database
    thread instead of loading the guard there. Kinds and positions only, never the text."""

    digest = models.CharField(max_length=64, unique=True)
    findings = models.JSONField(default=list)  # [[kind, start, end], ...]
    scanned_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Identifier scan {self.digest[:12]}: {len(self.findings)} finding(s)"


class CaseImage(models.Model):
    """An image of the case, stored as cases.images made it: its pixels only, no metadata."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveSmallIntegerField(default=0)
    caption = models.CharField(max_length=200, blank=True, help_text="Shown under the image, e.g. “PET-CT at relapse”.")
    alt_text = models.CharField(
        "description for screen readers", max_length=300, help_text="What the image shows, for those who cannot see it."
    )
    content = models.BinaryField()
    content_type = models.CharField(max_length=40, default="image/webp", editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    # The author's word that no name, date or number is burned into the pixels (metadata is gone).
    no_identifiers_in_pixels = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(no_identifiers_in_pixels=True), name="case_image_pixels_checked")
        ]

    def __str__(self) -> str:
        return self.caption or f"Image {self.position}"
