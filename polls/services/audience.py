"""Who the audience is: profiles, panelists, the split shown on the presenter, and repeat rounds."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from polls import selectors
from polls.errors import DomainError
from polls.models import Event, Option, Participant, Poll, PollKind, PollPurpose, ProfileQuestion
from polls.profiles import built_in, clean_answers
from polls.services._common import audit, lock_event, poll_locked, publish_results, publish_state

ROUND_KINDS = (PollKind.SINGLE, PollKind.LIKERT)


@transaction.atomic
def profile_set(*, participant_id: int, event_id: int, answers: dict) -> dict[str, str]:
    """The participant belongs to the event; their optional profile answers replace earlier ones."""
    clean = clean_answers(answers, questions=selectors.profile_questions(event_id=event_id))
    updated = Participant.objects.filter(pk=participant_id, event_id=event_id).update(
        profile=clean, profile_set_at=timezone.now()
    )
    if not updated:
        raise DomainError("not_joined")
    return clean


def panelist_participant(*, event: Event, user) -> Participant:
    """The user is a panelist of the event; their panel identity there (created on first use)."""
    if not event.panelists.filter(pk=user.pk).exists():
        raise DomainError("forbidden")
    try:
        with transaction.atomic():
            participant, _ = Participant.objects.get_or_create(event=event, user=user, defaults={"is_panelist": True})
    except IntegrityError:  # two tabs joined at once
        participant = Participant.objects.get(event=event, user=user)
    return participant


@transaction.atomic
def segments_show(*, event_id: int, attribute: str | None, user) -> Event:
    """The attribute is one the event asks, or None; the presenter splits revealed results by it."""
    event = lock_event(event_id)
    if attribute and attribute not in selectors.profile_keys(event_id=event.id):
        raise DomainError("unknown_attribute")
    event.presenter_segment = attribute or ""
    event.save(update_fields=["presenter_segment"])
    audit(event, user, "show_segments", attribute or "none")
    publish_state(event)
    if event.current_poll_id:
        publish_results(event.id, event.current_poll_id)
    return event


@transaction.atomic
def poll_new_round(*, event_id: int, poll_id: int, user) -> Poll:
    """The poll is single choice or a rating scale; a draft next round of the same question is added."""
    event = lock_event(event_id)
    source = poll_locked(event, poll_id)
    if source.kind not in ROUND_KINDS:
        raise DomainError("not_a_round")
    root = source.round_of or source
    last = Poll.objects.filter(round_of=root).aggregate(n=Max("round_number"))["n"] or root.round_number
    fields = ["case_id", "kind", "question", "ask_confidence", "preferred_rationale"]
    copy = Poll.objects.create(
        event=event,
        position=source.position,
        round_of=root,
        round_number=last + 1,
        # The pair of a pre/post question is its next round: asked again after the teaching.
        purpose=PollPurpose.POST if root.purpose == PollPurpose.PRE else root.purpose,
        **{f: getattr(root, f) for f in fields},
    )
    Option.objects.bulk_create(
        [Option(poll=copy, label=o.label, position=o.position, is_preferred=o.is_preferred) for o in root.options.all()]
    )
    audit(event, user, "new_round", f"poll:{root.id}->poll:{copy.id}")
    publish_state(event)
    return copy


@transaction.atomic
def profile_questions_from_template(*, event_id: int, keys: list[str], user) -> list[ProfileQuestion]:
    """The user moderates the event; the built-in questions with these keys that it does not ask
    yet are added after its own (the template an organiser starts from)."""
    event = lock_event(event_id)
    if not selectors.user_moderates(user=user, event=event):
        raise DomainError("forbidden")
    asked = set(ProfileQuestion.objects.filter(event=event).values_list("key", flat=True))
    last = ProfileQuestion.objects.filter(event=event).aggregate(n=Max("position"))["n"] or 0
    added = [
        ProfileQuestion.objects.create(event=event, position=last + n, **question)
        for n, question in enumerate((q for q in built_in(keys) if q["key"] not in asked), start=1)
    ]
    if added:
        audit(event, user, "set_profile_questions", ",".join(q.key for q in added))
        publish_state(event)
    return added


@transaction.atomic
def profile_questions_changed(*, event_id: int, user) -> None:
    """The event's profile questions were edited (admin): audited, and every screen gets them."""
    event = lock_event(event_id)
    keys = ProfileQuestion.objects.filter(event=event).values_list("key", flat=True)
    audit(event, user, "set_profile_questions", ",".join(keys))
    if event.presenter_segment and event.presenter_segment not in keys:
        # The split shown on the projector was a question that is gone.
        event.presenter_segment = ""
        event.save(update_fields=["presenter_segment"])
    publish_state(event)
