"""Channel-layer group names: the only place they are spelled."""


def event_group(event_id: int) -> str:
    """Every server process with a connection to the event joins this group once."""
    return f"event.{event_id}"
