"""Calendar invitations (.ics) for an event's moderators and faculty, with the icalendar library."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import icalendar
from django.utils import timezone

from polls.models import Event


def event_invitation(event: Event, *, console_url: str, join_url: str) -> bytes:
    """One VEVENT in the event's own time zone (with its VTIMEZONE), moderators as chairs and
    faculty as participants. The projector's secret link is left out: invitations get forwarded."""
    if event.starts_at is None:
        raise ValueError("The event has no start time.")
    zone = ZoneInfo(event.time_zone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Caseboard//Caseboard//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    entry = icalendar.Event()
    # Stable per event: a second download updates the calendar entry instead of adding one.
    entry.add("uid", f"caseboard-event-{event.pk}-{event.code}")
    entry.add("sequence", event.state_version % 2**31)
    entry.add("dtstamp", timezone.now())
    entry.add("dtstart", event.starts_at.astimezone(zone))
    entry.add("dtend", (event.starts_at + timedelta(minutes=event.duration_minutes)).astimezone(zone))
    entry.add("summary", event.title)
    entry.add(
        "description",
        f"Moderator console: {console_url}\nParticipants join at {join_url} with the code {event.code}.",
    )
    entry.add("url", console_url)
    for role, people in (("CHAIR", event.moderators.all()), ("REQ-PARTICIPANT", event.panelists.all())):
        for person in people:
            if person.email:
                name = person.get_full_name() or person.get_username()
                entry.add("attendee", f"mailto:{person.email}", parameters={"CN": name, "ROLE": role})
    calendar.add_component(entry)
    calendar.add_missing_timezones()
    return calendar.to_ical()
