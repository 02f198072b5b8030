"""Poll forms shared by the admin and the authoring workspace: one set of rules for both.

What a poll asks is read by the patient-identifier guard like the case's own text; once a poll
has been opened, what it asks and where it belongs are fixed (votes refer to them).
"""

from __future__ import annotations

from django import forms

from cases.forms import IdentifierGuardForm, PageOrderMixin, acknowledge_field
from polls.models import CHOICE_KINDS, Option, Poll, PollKind, PollPurpose, PollState

AUTHORED_ONCE_OPENED = (
    "event", "case", "question", "kind", "round_of", "round_number",
    "max_choices", "numeric_min", "numeric_max", "text_max_length", "ask_confidence",
)  # fmt: skip


def opened(poll: Poll | None) -> bool:
    return poll is not None and poll.pk is not None and poll.state != PollState.DRAFT


class PollForm(IdentifierGuardForm):
    """A poll: a number poll has both bounds, the smaller first; opened, its question is fixed."""

    acknowledge_identifiers = acknowledge_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "purpose" in self.fields:
            self.fields["purpose"].required = False
        if opened(self.instance):
            for name in AUTHORED_ONCE_OPENED:
                if name in self.fields:
                    self.fields[name].disabled = True

    def clean_purpose(self) -> str:
        # Optional on the form: a poll is a case decision unless its author says otherwise.
        return self.cleaned_data.get("purpose") or PollPurpose.DECISION

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == PollKind.NUMERIC and "numeric_min" in self.fields:
            low, high = cleaned.get("numeric_min"), cleaned.get("numeric_max")
            if low is None or high is None:
                # Without bounds a phone's slider has no ends, and one typo (1e9 months) skews the mean.
                self.add_error("numeric_min", "A number poll needs its smallest and its largest answer.")
            elif low >= high:
                self.add_error("numeric_max", "The largest answer must be larger than the smallest.")
        return cleaned


def option_position(form: forms.Form):
    """Where an option sits: its typed position (the admin) or its row's order (the workspace,
    where the page orders the rows and the server numbers them)."""
    data = form.cleaned_data
    return data.get("position") if "position" in form.fields else data.get(forms.formsets.ORDERING_FIELD_NAME)


class OptionFormSet(forms.BaseInlineFormSet):
    """A choice poll has at least two options, each at its own position (the order phones show)."""

    # The kind the options are for, when the poll's form changes it in the same request.
    kind: str | None = None

    def clean(self):
        super().clean()
        if any(self.errors) or opened(self.instance):
            return
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        positions = [option_position(f) for f in kept]
        repeated = sorted({p for p in positions if p is not None and positions.count(p) > 1})
        if repeated:
            raise forms.ValidationError(
                f"Two options share position {', '.join(map(str, repeated))}: give each its own place in the list."
            )
        kind = self.kind or self.instance.kind
        if kind in CHOICE_KINDS and len(kept) < 2:
            label = PollKind(kind).label.lower()
            raise forms.ValidationError(f"A {label} poll needs at least two options.")


# ------------------------------------------------------------------ the authoring workspace

# A generated rating scale has at most this many points (0–10 is the widest scale in use).
MAX_SCALE_POINTS = 11


class WorkspacePollForm(PollForm):
    """A poll on the case builder: every kind's fields, of which the page shows only the chosen
    kind's (and the server keeps only those). A rating scale may be given as a numbered range."""

    scale_from = forms.IntegerField(
        required=False, label="Scale from", help_text="Rating scale: numbered points instead of typed options."
    )
    scale_to = forms.IntegerField(required=False, label="Scale to")

    class Meta:
        model = Poll
        fields = (
            "question", "kind", "purpose", "max_choices", "numeric_min", "numeric_max", "numeric_unit",
            "text_max_length", "ask_confidence", "preferred_rationale",
        )  # fmt: skip
        widgets = {
            "question": forms.Textarea(attrs={"rows": 2}),
            "preferred_rationale": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("scale_from"), cleaned.get("scale_to")
        if cleaned.get("kind") == PollKind.LIKERT and (low is not None or high is not None):
            if low is None or high is None:
                self.add_error("scale_from", "Give the scale both ends, e.g. from 1 to 5.")
            elif low >= high:
                self.add_error("scale_to", "The scale must run from a smaller number to a larger one, e.g. 1 to 5.")
            elif high - low + 1 > MAX_SCALE_POINTS:
                self.add_error("scale_to", f"A rating scale has at most {MAX_SCALE_POINTS} points.")
        return cleaned

    def scale_labels(self) -> list[str]:
        """The options of a numbered rating scale, or [] when the options are typed."""
        data = self.cleaned_data
        low, high = data.get("scale_from"), data.get("scale_to")
        if data.get("kind") != PollKind.LIKERT or low is None or high is None or low >= high:
            return []
        return [str(n) for n in range(low, high + 1)]


class WorkspaceOptionFormSet(PageOrderMixin, OptionFormSet):
    generated = False  # a numbered scale replaces the typed options

    def clean(self):
        if self.generated:
            return
        super().clean()


WorkspaceOptions = forms.inlineformset_factory(
    Poll, Option, form=IdentifierGuardForm, formset=WorkspaceOptionFormSet, fields=("label", "is_preferred"),
    extra=0, can_order=True, can_delete=True,
)  # fmt: skip
