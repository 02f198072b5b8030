"""What the projector shows: one focus at a time, chosen by the moderator, and its theme."""

from __future__ import annotations

from django.db import transaction

from polls.errors import DomainError
from polls.models import AgendaItem, Event, Poll, StageScreen, StageTheme, TeachingPointReveal
from polls.services._common import audit, lock_event, poll_locked, publish_state, stage_pages_reset


@transaction.atomic
def screen_show(
    *, event_id: int, screen: str, user, poll_id: int | None = None, teaching_point_id: int | None = None
) -> Event:
    """`screen` is a StageScreen; `poll` (of this event) only with "poll", which otherwise needs
    a poll on screen; `teaching_point` (revealed in this event) only with "teaching"; "case"
    needs a case on screen, "disclosures" a disclosure. Every screen shows it."""
    if screen not in StageScreen.values:
        raise DomainError("bad_request", "screen must be one of: " + ", ".join(StageScreen.values) + ".")
    event = lock_event(event_id)
    fields = ["screen"]
    if poll_id is not None:
        if screen != StageScreen.POLL:
            raise DomainError("bad_request", "poll goes with the poll screen only.")
        poll = poll_locked(event, poll_id)
        event.current_poll = poll
        event.current_case_id = poll.case_id
        fields += ["current_poll", "current_case"]
    elif screen == StageScreen.POLL and event.current_poll_id is None:
        raise DomainError("invalid_transition", "There is no poll to show: choose one.")
    if teaching_point_id is not None:
        if screen != StageScreen.TEACHING:
            raise DomainError("bad_request", "teaching_point goes with the teaching screen only.")
        reveal = (
            TeachingPointReveal.objects.filter(event=event, teaching_point_id=teaching_point_id)
            .select_related("teaching_point")
            .first()
        )
        if reveal is None:
            raise DomainError("unknown_teaching_point", "Reveal that teaching point first.")
        event.screen_point = reveal.teaching_point
        fields.append("screen_point")
        if event.current_case_id != reveal.teaching_point.case_id:
            event.current_case_id = reveal.teaching_point.case_id
            event.current_poll = None
            fields += ["current_case", "current_poll"]
    if screen == StageScreen.CASE and event.current_case_id is None:
        raise DomainError("invalid_transition", "There is no case to show: choose one.")
    if screen == StageScreen.DISCLOSURES and not event.disclosures.exists():
        raise DomainError("invalid_transition", "This event has no disclosures: add them on its admin page first.")
    event.screen = screen
    fields += stage_pages_reset(event)
    event.save(update_fields=fields)
    target = f"screen:{screen}" + (f" poll:{poll_id}" if poll_id else "")
    target += f" teaching_point:{teaching_point_id}" if teaching_point_id else ""
    audit(event, user, "show_screen", target)
    publish_state(event)
    return event


@transaction.atomic
def theme_set(*, event_id: int, theme: str, user) -> Event:
    """`theme` is a StageTheme; the projector switches to it."""
    if theme not in StageTheme.values:
        raise DomainError("bad_request", "theme must be one of: " + ", ".join(StageTheme.values) + ".")
    event = lock_event(event_id)
    event.theme = theme
    event.save(update_fields=["theme"])
    audit(event, user, "set_theme", f"theme:{theme}")
    publish_state(event)
    return event


def _agenda_steps(event: Event) -> list[tuple[str, int, int | None]]:
    """The agenda as a line for next/back: each case, then each of its polls, in agenda order."""
    polls: dict[int, list[int]] = {}
    for poll_id, case_id in Poll.objects.filter(event=event).order_by("position", "id").values_list("id", "case_id"):
        polls.setdefault(case_id, []).append(poll_id)
    steps: list[tuple[str, int, int | None]] = []
    for case_id in AgendaItem.objects.filter(event=event).order_by("position", "id").values_list("case_id", flat=True):
        steps.append((StageScreen.CASE, case_id, None))
        steps += [(StageScreen.POLL, case_id, poll_id) for poll_id in polls.get(case_id, [])]
    return steps


def _step_teaching_point(event: Event, direction: int) -> bool:
    """On the teaching screen, page through the case's revealed points; False past either end."""
    points = list(
        TeachingPointReveal.objects.filter(event=event, teaching_point__case_id=event.current_case_id)
        .order_by("teaching_point__position", "teaching_point_id")
        .values_list("teaching_point_id", flat=True)
    )
    if event.screen_point_id in points:
        at = points.index(event.screen_point_id)
    else:
        at = len(points) - 1
    target = at + direction
    if not points or not 0 <= target < len(points):
        return False
    event.screen_point_id = points[target]
    event.save(update_fields=["screen_point", *stage_pages_reset(event)])
    return True


@transaction.atomic
def screen_step(*, event_id: int, direction: int, user) -> Event:
    """`direction` is 1 (next) or -1 (back): the teaching screen pages through the case's revealed
    points; otherwise the screen moves along the agenda (each case, then its polls). Refused with
    invalid_transition past either end."""
    if direction not in (1, -1):
        raise DomainError("bad_request", "direction must be 1 or -1.")
    event = lock_event(event_id)
    if event.screen_page_focus and 0 <= event.screen_page + direction < event.screen_pages:
        # A focus split into pages (it does not fit the projector at a readable size): its pages first.
        event.screen_page += direction
        event.save(update_fields=["screen_page"])
        audit(event, user, "step", f"page:{event.screen_page + 1}/{event.screen_pages}")
        publish_state(event)
        return event
    if event.screen == StageScreen.TEACHING and _step_teaching_point(event, direction):
        audit(event, user, "step", f"teaching_point:{event.screen_point_id}")
        publish_state(event)
        return event
    steps = _agenda_steps(event)
    if event.screen == StageScreen.POLL and event.current_poll_id:
        at = next((i for i, s in enumerate(steps) if s[2] == event.current_poll_id), -1)
    elif event.screen in (StageScreen.CASE, StageScreen.TEACHING) and event.current_case_id:
        at = next((i for i, s in enumerate(steps) if s[0] == StageScreen.CASE and s[1] == event.current_case_id), -1)
    else:
        at = -1
    target = at + direction if at >= 0 else (0 if direction > 0 else -1)
    if not 0 <= target < len(steps):
        raise DomainError("invalid_transition", "The agenda ends here.")
    screen, case_id, poll_id = steps[target]
    event.screen = screen
    event.current_case_id = case_id
    if poll_id is not None:
        event.current_poll_id = poll_id
    elif event.current_poll_id and not Poll.objects.filter(pk=event.current_poll_id, case_id=case_id).exists():
        event.current_poll = None
    event.save(update_fields=["screen", "current_case", "current_poll", *stage_pages_reset(event)])
    audit(event, user, "step", f"poll:{poll_id}" if poll_id else f"case:{case_id}")
    publish_state(event)
    return event


MAX_STAGE_PAGES = 20
MAX_FOCUS_LENGTH = Event._meta.get_field("screen_page_focus").max_length


@transaction.atomic
def stage_pages_set(*, event_id: int, focus: str, pages: int) -> Event:
    """The projector's report: the focus it shows (`focus`, a short text, stage.js stageFocusKey)
    needs `pages` pages (1–20) at a readable size. A new focus starts on its first page; the
    same focus keeps its page (within the new count). Nothing changes, and nobody is told, when
    the report repeats what is known."""
    if not isinstance(focus, str) or not 0 < len(focus) <= MAX_FOCUS_LENGTH:
        raise DomainError("bad_request", f"focus must be a text of 1–{MAX_FOCUS_LENGTH} characters.")
    if isinstance(pages, bool) or not isinstance(pages, int) or not 1 <= pages <= MAX_STAGE_PAGES:
        raise DomainError("bad_request", f"pages must be a whole number from 1 to {MAX_STAGE_PAGES}.")
    current = Event.objects.select_for_update().get(pk=event_id)
    if current.screen_page_focus == focus and current.screen_pages == pages:
        return current
    event = lock_event(event_id)
    if event.screen_page_focus != focus:
        event.screen_page = 0
    event.screen_page = min(event.screen_page, pages - 1)
    event.screen_pages, event.screen_page_focus = pages, focus
    event.save(update_fields=["screen_page", "screen_pages", "screen_page_focus"])
    # Not audited: the projector's layout, not a moderator's decision (the steps through it are).
    publish_state(event)
    return event


TEXT_VIEWS = ("list", "cloud")


@transaction.atomic
def text_view_set(*, event_id: int, view: str, user) -> Event:
    """`view` is "list" or "cloud": how the projector shows approved free-text answers."""
    if view not in TEXT_VIEWS:
        raise DomainError("bad_request", "view must be list or cloud.")
    event = lock_event(event_id)
    event.text_view = view
    event.save(update_fields=["text_view"])
    audit(event, user, "set_text_view", f"view:{view}")
    publish_state(event)
    return event
