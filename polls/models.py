"""Events, their agenda and polls, anonymous participants and their votes."""

import secrets
from decimal import Decimal
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

# Every numeric answer and bound lies within ±NUMERIC_LIMIT, whatever the author set: a million
# such values still sum without overflow, and no clinical quantity needs more (docs/protocol.md).
NUMERIC_LIMIT = 1e15

# Easy to read aloud and type on a phone: no 0/O, 1/I.
JOIN_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
JOIN_CODE_REGEX = r"^[2-9A-HJ-NP-Z]{4,10}$"


# Generated codes are this long: 32^8 ≈ 1.1e12 codes, so guessing one of a few live events is
# impractical within the per-address budget (docs/protocol.md, Limits). Organisers may still type
# a shorter code (4–10 characters), like the demo's CASE2.
JOIN_CODE_LENGTH = 8


def new_join_code() -> str:
    """A random join code of JOIN_CODE_LENGTH characters from the readable alphabet."""
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def new_presenter_token() -> str:
    return secrets.token_urlsafe(24)


def new_invitation_nonce() -> str:
    return secrets.token_hex(16)


class EventStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    LIVE = "live", "Live"
    ENDED = "ended", "Ended"


class StageScreen(models.TextChoices):
    """What the projector shows: one focus at a time, chosen by the moderator."""

    JOIN = "join", "Join screen"
    CASE = "case", "Case"
    POLL = "poll", "Poll"
    TEACHING = "teaching", "Teaching points"
    QUESTIONS = "questions", "Audience questions"
    BLANK = "blank", "Blank screen"
    # Accredited education discloses the faculty's financial relationships before the content.
    DISCLOSURES = "disclosures", "Disclosures"


class StageTheme(models.TextChoices):
    LIGHT = "light", "Light"
    DARK = "dark", "Dark (for dark rooms)"


def validate_time_zone(name: str) -> None:
    if name not in available_timezones():
        raise ValidationError(f"“{name}” is not a time zone name; use one such as Europe/London or America/Chicago.")


class Event(models.Model):
    title = models.CharField(max_length=200)
    code = models.CharField(
        "join code",
        max_length=10,
        unique=True,
        validators=[RegexValidator(JOIN_CODE_REGEX, "4–10 characters from 2-9 and A-Z without I and O.")],
        help_text="Upper case; participants may type it in any case.",
    )
    status = models.CharField(max_length=8, choices=EventStatus.choices, default=EventStatus.DRAFT)
    moderators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="moderated_events", blank=True)
    cases = models.ManyToManyField("cases.Case", through="AgendaItem", related_name="events", blank=True)
    current_case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    current_poll = models.ForeignKey("Poll", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    panelists = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="panel_events",
        blank=True,
        help_text="Faculty whose votes are kept apart.",
    )
    min_cell_size = models.PositiveSmallIntegerField(
        default=5, help_text="Segments with fewer respondents are merged into “other” everywhere."
    )
    presenter_segment = models.CharField(max_length=20, blank=True, editable=False)
    questions_enabled = models.BooleanField(
        "audience questions", default=True, help_text="Participants may ask and upvote questions."
    )
    questions_moderated = models.BooleanField(
        "moderate questions first",
        default=True,
        help_text="A question reaches the room only once a moderator approves it (clinical events: keep on).",
    )
    questions_names_allowed = models.BooleanField(
        "names on questions", default=False, help_text="Participants may sign a question with a name (else anonymous)."
    )
    presenter_token = models.CharField(max_length=64, default=new_presenter_token, editable=False)
    # The projector's one focus; the services that put something on screen set it.
    screen = models.CharField(max_length=12, choices=StageScreen.choices, default=StageScreen.JOIN, editable=False)
    # The teaching point the teaching screen shows (one at a time; the newest revealed, or the one chosen).
    screen_point = models.ForeignKey(
        "cases.TeachingPoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # A focus too long for the projector at a readable size is split into pages (presenter.js):
    # the projector reports how many its focus (`screen_page_focus`, stage.js stageFocusKey)
    # needs, and next/back step through them before moving along the agenda.
    screen_page = models.PositiveSmallIntegerField(default=0, editable=False)
    screen_pages = models.PositiveSmallIntegerField(default=1, editable=False)
    screen_page_focus = models.CharField(max_length=80, blank=True, editable=False)
    # How the projector shows approved free-text answers: as a list or as a word cloud.
    text_view = models.CharField(
        max_length=8, choices=[("list", "List"), ("cloud", "Word cloud")], default="list", editable=False
    )
    theme = models.CharField("projector theme", max_length=8, choices=StageTheme.choices, default=StageTheme.LIGHT)
    # Who created the event: with `moderate_all_events`, the only one who may change its moderators.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_events",
        editable=False,
    )
    # The schedule: an instant, and the zone its organiser and invitations read it in.
    starts_at = models.DateTimeField(
        "starts", null=True, blank=True, help_text="Local time in the event's time zone (below)."
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Where the event takes place, as an IANA name such as America/New_York or Europe/Paris.",
    )
    # The room's language (issue 18): the projector's, and the phones' until one switches to its
    # own. Case content keeps the language it was written in (Case.language).
    language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text="The language of the projector and, until a participant picks another, of the phones.",
    )
    duration_minutes = models.PositiveSmallIntegerField(
        "duration (minutes)", default=90, validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    # Continuing-education credit: offered when hours are set (issue 15).
    credit_hours = models.DecimalField(
        "credit hours offered",
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.25")), MaxValueValidator(Decimal("40"))],
        help_text="Leave empty when the event offers no credit. Participants claim up to this many hours.",
    )
    credit_statement = models.TextField(
        "accreditation statement", blank=True, help_text="Printed on each certificate, e.g. the provider's statement."
    )
    # The follow-up (Moore's level 5): participants may leave an email to be asked again later.
    followup_days = models.PositiveSmallIntegerField(
        "follow-up survey after",
        null=True,
        blank=True,
        choices=[(30, "30 days"), (60, "60 days"), (90, "90 days")],
        help_text="Days after the event's end. Empty: no follow-up. The survey asks the commitment and "
        "intent-to-change polls again and closes 30 days after it is sent; the addresses are deleted then.",
    )
    # Bumped by every state change under the event's row lock: clients drop older `state` frames.
    state_version = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("moderate_all_events", "Can moderate every event")]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=EventStatus.values), name="event_status_valid"),
            models.CheckConstraint(condition=models.Q(code__regex=JOIN_CODE_REGEX), name="event_code_format"),
            models.CheckConstraint(condition=models.Q(min_cell_size__gte=2), name="event_min_cell_size_2"),
            models.CheckConstraint(condition=models.Q(screen__in=StageScreen.values), name="event_screen_valid"),
            models.CheckConstraint(condition=models.Q(theme__in=StageTheme.values), name="event_theme_valid"),
            models.CheckConstraint(
                condition=models.Q(followup_days__isnull=True) | models.Q(followup_days__in=(30, 60, 90)),
                name="event_followup_days_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.code})"


class AgendaItem(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="agenda")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="agenda_items")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "case"], name="agenda_case_once_per_event")]

    def __str__(self) -> str:
        return f"{self.position}. {self.case}"


class PollKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTI = "multi", _("Multiple choice")
    LIKERT = "likert", _("Rating scale (ordered options)")
    NUMERIC = "numeric", _("Number")
    TEXT = "text", _("Short free text")
    RANKING = "ranking", _("Ranking of options")


CHOICE_KINDS = {PollKind.SINGLE, PollKind.MULTI, PollKind.LIKERT, PollKind.RANKING}


class PollPurpose(models.TextChoices):
    """What a poll is for, read on Moore's outcome levels by the outcomes report (issue 15)."""

    DECISION = "decision", _("Case decision")
    PRE = "pre", _("Before the teaching (pre)")
    POST = "post", _("After the teaching (post)")
    INTENT = "intent", _("Intent to change practice")
    EVALUATION = "evaluation", _("Evaluation of the activity")
    COMMITMENT = "commitment", _("Commitment to follow up")


MAX_TEXT_LENGTH = 280


class PollState(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Poll(models.Model):
    # Without an event, a poll of the case library: a draft that travels with its case and is
    # copied, with the case, into each event the case is added to (polls/casefile.py).
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.CASCADE, related_name="polls")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="polls")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=PollKind.choices, default=PollKind.SINGLE)
    question = models.CharField(max_length=300)
    state = models.CharField(max_length=8, choices=PollState.choices, default=PollState.DRAFT)
    results_visible = models.BooleanField(
        default=False, help_text="Whether the audience and presenter may see the counts."
    )
    purpose = models.CharField(
        max_length=12,
        choices=PollPurpose.choices,
        default=PollPurpose.DECISION,
        help_text="Pre and post: ask it before the teaching and again (as a new round) after it.",
    )
    # Pre/post rounds of the same question: a later round points at the first one.
    round_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="rounds")
    round_number = models.PositiveSmallIntegerField(default=1)
    # How often its votes were reset: phones and sockets drop a ballot remembered from before.
    reset_count = models.PositiveIntegerField(default=0, editable=False)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Countdown: set when opened with a duration; the server closes the poll at this instant.
    closes_at = models.DateTimeField(null=True, blank=True, editable=False)
    max_choices = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Multiple choice: the most options a participant may pick."
    )
    numeric_min = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-NUMERIC_LIMIT), MaxValueValidator(NUMERIC_LIMIT)],
        help_text=f"Number: smallest allowed answer (empty: -{NUMERIC_LIMIT:.0e}).",
    )
    numeric_max = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-NUMERIC_LIMIT), MaxValueValidator(NUMERIC_LIMIT)],
        help_text=f"Number: largest allowed answer (empty: {NUMERIC_LIMIT:.0e}).",
    )
    numeric_unit = models.CharField(max_length=30, blank=True, help_text="Number: unit, e.g. months.")
    text_max_length = models.PositiveSmallIntegerField(
        default=140, help_text=f"Free text: longest answer in characters (at most {MAX_TEXT_LENGTH})."
    )
    ask_confidence = models.BooleanField(default=False, help_text="Ask for a 1–5 confidence rating with the answer.")
    preferred_rationale = models.TextField(
        blank=True, help_text="Why the preferred option(s) are preferred; shown when revealed."
    )
    preferred_revealed = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(state__in=PollState.values), name="poll_state_valid"),
            models.CheckConstraint(
                condition=models.Q(text_max_length__gte=1, text_max_length__lte=MAX_TEXT_LENGTH),
                name="poll_text_length_bounded",
            ),
            models.CheckConstraint(
                condition=models.Q(numeric_min__isnull=True)
                | models.Q(numeric_max__isnull=True)
                | models.Q(numeric_min__lte=models.F("numeric_max")),
                name="poll_numeric_range_ordered",
            ),
            models.CheckConstraint(
                condition=(models.Q(numeric_min__isnull=True) | models.Q(numeric_min__gte=-NUMERIC_LIMIT))
                & (models.Q(numeric_max__isnull=True) | models.Q(numeric_max__lte=NUMERIC_LIMIT)),
                name="poll_numeric_range_bounded",
            ),
            models.CheckConstraint(condition=models.Q(kind__in=PollKind.values), name="poll_kind_valid"),
            models.CheckConstraint(
                condition=~models.Q(state=PollState.DRAFT, results_visible=True),
                name="poll_draft_results_hidden",
            ),
            # A library poll is never asked: only its copies in events are.
            models.CheckConstraint(
                condition=models.Q(event__isnull=False) | models.Q(state=PollState.DRAFT),
                name="poll_library_is_draft",
            ),
        ]

    def __str__(self) -> str:
        return self.question


class Option(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    is_preferred = models.BooleanField(
        "evidence-preferred", default=False, help_text="Highlighted when the moderator reveals the preferred answer."
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class Participant(models.Model):
    """An anonymous audience member of one event, bound to one browser session."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participants")
    joined_at = models.DateTimeField(auto_now_add=True)
    profile = models.JSONField(default=dict, blank=True)
    # When the profile was last answered: answers given after a poll opened do not split it
    # (four fresh sessions declaring a specialty must not lift a segment over the small-cell size).
    profile_set_at = models.DateTimeField(null=True, blank=True)
    # Panelists (faculty) vote from their own view; their ballots never count as the audience's.
    is_panelist = models.BooleanField(default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # A panelist who came by invitation link instead of an account: one identity per invitation.
    invitation = models.OneToOneField(
        "PanelistInvitation", null=True, blank=True, on_delete=models.RESTRICT, related_name="participant"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"], condition=models.Q(user__isnull=False), name="participant_user_once"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(is_panelist=False) | models.Q(user__isnull=False) | models.Q(invitation__isnull=False)
                ),
                name="panelist_has_user_or_invitation",
            ),
        ]

    def __str__(self) -> str:
        return f"Participant {self.pk}"


PROFILE_KEY_REGEX = r"^[a-z][a-z0-9_]{0,19}$"


class ProfileQuestion(models.Model):
    """One optional question an event asks its participants at join ("Specialty"), whose answers
    split results into segments. The event's own: the built-in three (polls/profiles.py) are a
    template that new events and the demo start from."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="profile_questions")
    key = models.CharField(
        max_length=20,
        validators=[RegexValidator(PROFILE_KEY_REGEX, "Lower-case letters, digits and _, starting with a letter.")],
        help_text="A short name for exports and answers (for example specialty); fixed once the event is live.",
    )
    label = models.CharField(max_length=100, help_text="The question as phones show it.")
    options = models.JSONField(default=list, help_text="The answers offered, in order.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "key"], name="profile_question_key_once")]

    def __str__(self) -> str:
        return self.label


class PanelistInvitation(models.Model):
    """A link that makes whoever opens it one named panelist of the event, without an account.

    The link carries a signed token (polls/panel_links.py) naming this row and its nonce; the
    row decides whether it still holds. Revoking it ends the panel rights of every browser that
    opened it (their sockets are closed)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="panelist_invitations")
    display_name = models.CharField(max_length=80, help_text="How the moderator knows this panelist.")
    # Random per invitation: a token signed for a deleted row whose id is reused names a nonce that no longer exists.
    nonce = models.CharField(max_length=32, default=new_invitation_nonce, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AnswerStatus(models.TextChoices):
    PENDING = "pending", "Awaiting moderation"
    APPROVED = "approved", "Shown"
    REJECTED = "rejected", "Hidden"


class Vote(models.Model):
    """A participant's current ballot on a poll; changing it rewrites its choices."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="votes")
    options = models.ManyToManyField(Option, through="VoteChoice", related_name="votes")
    value_number = models.FloatField(null=True, blank=True)
    value_text = models.CharField(max_length=MAX_TEXT_LENGTH, blank=True)
    # Free-text answers reach the presenter only once a moderator approves them.
    text_status = models.CharField(max_length=8, choices=AnswerStatus.choices, default=AnswerStatus.PENDING)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["poll", "participant"], name="vote_once_per_poll"),
            models.CheckConstraint(
                condition=models.Q(confidence__isnull=True) | models.Q(confidence__gte=1, confidence__lte=5),
                name="vote_confidence_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(text_status__in=AnswerStatus.values), name="vote_text_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Vote {self.pk} on poll {self.poll_id}"


class VoteChoice(models.Model):
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="choices")
    option = models.ForeignKey(Option, on_delete=models.CASCADE, related_name="choices")
    rank = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Ranking polls: 1 is first.")
    # Denormalised so tallies are one indexed GROUP BY without a join.
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vote", "option"], name="choice_once_per_vote")]
        indexes = [models.Index(fields=["poll", "option"], name="choice_poll_option")]

    def __str__(self) -> str:
        return f"Choice {self.option_id} in vote {self.vote_id}"


class VoteReceipt(models.Model):
    """Every ballot a participant sent, keyed by the client's ref: resends are recognised, history is kept."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="receipts")
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="receipts")
    ref = models.CharField(max_length=64)
    ballot = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["participant", "ref"], name="receipt_ref_once")]

    def __str__(self) -> str:
        return f"Receipt {self.ref} of participant {self.participant_id}"


class TeachingPointReveal(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="revealed_points")
    teaching_point = models.ForeignKey("cases.TeachingPoint", on_delete=models.CASCADE, related_name="+")
    revealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["revealed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "teaching_point"], name="teaching_point_revealed_once")]

    def __str__(self) -> str:
        return f"Teaching point {self.teaching_point_id} revealed in event {self.event_id}"


class CaseFactReveal(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="revealed_facts")
    fact = models.ForeignKey("cases.CaseFact", on_delete=models.CASCADE, related_name="+")
    revealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["revealed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "fact"], name="case_fact_revealed_once")]

    def __str__(self) -> str:
        return f"Fact {self.fact_id} revealed in event {self.event_id}"


class ModeratorAction(models.Model):
    """Audit log: who did what to which event, and when."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="audit_log")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=40)
    target = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target}".strip()


class AuthoringReceipt(models.Model):
    """What a create form of the authoring workspace made, keyed by the one-time ref of that form.

    A double click or a resent POST carries the same ref and finds what the first one created,
    so saving is safe to repeat (the unique constraint settles two at once)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ref = models.CharField(max_length=80)  # a form's ref, or "console:" and a socket frame's ref
    kind = models.CharField(max_length=10)  # "case", "poll", "event" or "copy"
    object_id = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "ref"], name="authoring_ref_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} by form {self.ref}"


# ------------------------------------------------------------------ audience questions

MAX_QUESTION_LENGTH = 300
MAX_QUESTION_NAME_LENGTH = 40


class QuestionState(models.TextChoices):
    PENDING = "pending", "Awaiting moderation"
    APPROVED = "approved", "Shown"
    DISMISSED = "dismissed", "Dismissed"


class AudienceQuestion(models.Model):
    """A question a participant asked the room; the moderator decides whether the room sees it."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="audience_questions")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="questions")
    # The client's ref of the `ask` frame: a resend finds the question it already created.
    ref = models.CharField(max_length=64)
    text = models.CharField(max_length=MAX_QUESTION_LENGTH)
    name = models.CharField(max_length=MAX_QUESTION_NAME_LENGTH, blank=True)
    state = models.CharField(max_length=10, choices=QuestionState.choices, default=QuestionState.PENDING)
    # Set once a moderator approved it (or the event publishes directly): a restore returns it there.
    was_approved = models.BooleanField(default=False)
    pinned = models.BooleanField(default=False)
    answered = models.BooleanField(default=False)
    # A duplicate merged into another question: dismissed, its upvoters moved to the kept one.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "ref"], name="question_ref_once"),
            models.CheckConstraint(condition=models.Q(state__in=QuestionState.values), name="question_state_valid"),
            models.CheckConstraint(
                condition=models.Q(pinned=False) | models.Q(state=QuestionState.APPROVED), name="question_pinned_shown"
            ),
            models.UniqueConstraint(
                fields=["event"], condition=models.Q(pinned=True), name="question_one_pinned_per_event"
            ),
        ]
        indexes = [models.Index(fields=["participant", "created_at"], name="question_asked_by_when")]

    def __str__(self) -> str:
        return f"Question {self.pk}"


class QuestionUpvote(models.Model):
    """One participant's upvote of one question: at most one, whatever is resent (the database says so)."""

    question = models.ForeignKey(AudienceQuestion, on_delete=models.CASCADE, related_name="upvotes")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="question_upvotes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "participant"], name="upvote_once_per_question")]

    def __str__(self) -> str:
        return f"Upvote of question {self.question_id} by participant {self.participant_id}"


class QuestionReceipt(models.Model):
    """Every `upvote`/`unvote` a participant sent, keyed by its ref: a resend changes nothing."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="question_receipts")
    ref = models.CharField(max_length=64)
    action = models.CharField(max_length=8)
    question = models.ForeignKey(AudienceQuestion, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["participant", "ref"], name="question_receipt_ref_once")]

    def __str__(self) -> str:
        return f"Question receipt {self.ref} of participant {self.participant_id}"


def new_recap_token() -> str:
    return secrets.token_urlsafe(24)


class EventRecap(models.Model):
    """The moderator's recap of an event: Markdown drafted from the data, edited, then published.

    A published recap may be shared through its public link (`public_token`): it holds only what
    its text says, which is drafted from aggregated, small-cell suppressed figures."""

    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="recap")
    body = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    public_token = models.CharField(max_length=64, default=new_recap_token, unique=True, editable=False)
    public_link = models.BooleanField(default=False, help_text="Anyone with the link may read the published recap.")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(public_link=False) | models.Q(published_at__isnull=False),
                name="recap_public_only_when_published",
            ),
        ]

    def __str__(self) -> str:
        return f"Recap of event {self.event_id}"


class Profession(models.TextChoices):
    PHYSICIAN = "physician", _("Physician")
    NURSE = "nurse", _("Nurse or nurse practitioner")
    PHARMACIST = "pharmacist", _("Pharmacist")
    PHYSICIAN_ASSISTANT = "pa", _("Physician assistant")
    OTHER = "other", _("Other healthcare professional")


def new_certificate_token() -> str:
    return secrets.token_urlsafe(24)


class CreditClaim(models.Model):
    """A claim of continuing-education credit, kept apart from everything its claimant did in the room.

    It holds no key to a participant, a ballot, a profile answer or a question, and nothing else
    holds a key to it: who claimed credit can never be joined to how anyone voted. Reports count
    claims; they never join them to answers (tests/polls/test_credit.py checks the schema)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="credit_claims")
    name = models.CharField("name as it should appear on the certificate", max_length=200)
    email = models.EmailField()
    profession = models.CharField(max_length=12, choices=Profession.choices)
    hours = models.DecimalField(max_digits=4, decimal_places=2, validators=[MinValueValidator(Decimal("0.25"))])
    certificate_token = models.CharField(max_length=64, unique=True, default=new_certificate_token, editable=False)
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["claimed_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(hours__gt=0), name="credit_claim_hours_positive"),
            # One certificate per person and activity: the same address (in any case) claims once.
            # This is how a second claim is recognised without any key to the claimant's ballots.
            models.UniqueConstraint(Lower("email"), "event", name="credit_claim_once_per_email"),
        ]

    def __str__(self) -> str:
        return f"Credit claim {self.pk} of event {self.event_id}"


class Disclosure(models.Model):
    """One faculty member's relevant financial relationships, disclosed before the content.

    Accredited continuing education must disclose them to learners before the teaching (on the
    phones at join and on the projector's first screen), with how any conflict was mitigated."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="disclosures")
    position = models.PositiveSmallIntegerField(default=0)
    faculty_name = models.CharField("faculty member", max_length=200)
    role = models.CharField(max_length=100, help_text="e.g. Speaker, Panelist, Planner, Moderator.")
    nothing_to_disclose = models.BooleanField(
        "nothing to disclose", default=False, help_text="No relevant financial relationship with an ineligible company."
    )
    relationships = models.TextField(
        "relevant financial relationships",
        blank=True,
        help_text="Each company and the nature of the relationship, e.g. “Consultant: Company X”.",
    )
    mitigation = models.TextField(
        "mitigation",
        blank=True,
        help_text="Optional: how the relationships were mitigated, e.g. content peer-reviewed.",
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            # Either "nothing to disclose" or the relationships, never both and never neither.
            models.CheckConstraint(
                condition=(models.Q(nothing_to_disclose=True) & models.Q(relationships=""))
                | (models.Q(nothing_to_disclose=False) & ~models.Q(relationships="")),
                name="disclosure_relationships_or_nothing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.faculty_name} ({self.role})"

    def clean(self) -> None:
        self.relationships = (self.relationships or "").strip()
        if self.nothing_to_disclose and self.relationships:
            raise ValidationError({"relationships": "Leave this empty when there is nothing to disclose."})
        if not self.nothing_to_disclose and not self.relationships:
            raise ValidationError(
                {"relationships": "List the relevant financial relationships, or tick “nothing to disclose”."}
            )


class FollowUpContact(models.Model):
    """An address left for the follow-up survey, kept apart from everything its owner did in the room.

    No key to a participant, a ballot or a credit claim, and nothing points at it (not even the
    follow-up's answers): an address can never be joined to answers. `responded` is the single-use
    link's used-flag, a boolean without a time, so that it cannot be matched to a response by when
    it was given. The address is erased when the follow-up closes or its owner unsubscribes; the
    row stays, empty, so that response rates can still be counted."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="followup_contacts")
    email = models.EmailField(blank=True)
    # The language of the page the address was left on (issue 18): the invitation is written in
    # it. Blank for addresses left before it was kept: those get the event's language.
    language = models.CharField(max_length=8, blank=True, default="", choices=settings.LANGUAGES)
    created_at = models.DateTimeField(auto_now_add=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    responded = models.BooleanField(default=False)
    unsubscribed = models.BooleanField(default=False)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), "event", condition=~models.Q(email=""), name="followup_contact_once_per_email"
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-up contact {self.pk} of event {self.event_id}"


class FollowUpResponse(models.Model):
    """One completed follow-up survey: anonymous (no key to its contact; dated by day only)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="followup_responses")
    submitted_on = models.DateField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Follow-up response {self.pk} of event {self.event_id}"


class FollowUpAnswer(models.Model):
    """An answer of a follow-up response to one of the event's commitment or intent polls."""

    response = models.ForeignKey(FollowUpResponse, on_delete=models.CASCADE, related_name="answers")
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="followup_answers")
    option = models.ForeignKey(Option, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=MAX_TEXT_LENGTH, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Follow-up answer {self.pk}"
