"""Poll forms shared by the admin and the authoring workspace: one set of rules for both.

What a poll asks is read by the patient-identifier guard like the case's own text; once a poll
has been opened, what it asks and where it belongs are fixed (votes refer to them).
"""

from __future__ import annotations

from django import forms

from cases.forms import IdentifierGuardForm, acknowledge_field
from polls.models import CHOICE_KINDS, Poll, PollKind, PollPurpose, PollState

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
