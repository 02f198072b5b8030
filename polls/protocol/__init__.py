"""The realtime protocol (docs/protocol.md): the wire between the live runtime and the domain.

- `inbound`: every client frame type, declared once (fields, roles, handler, HTTP fallback);
- `outbound`: every server frame, built once per change and serialised once per audience;
- `payloads`: one serializer per entity, shared by all frames;
- `roles`: who is on the other end.

It depends on the domain (services, selectors); the live runtime (polls/live/) and the HTTP
views depend on it. The names below are the ones interfaces use.
"""

from polls.protocol.inbound import (
    FRAME_TYPES,
    MAX_REF_LENGTH,
    Caller,
    Command,
    decode,
    execute,
    frame_ref,
    parse,
    types_for,
)
from polls.protocol.outbound import (
    SERVER_FRAMES,
    ack_frame,
    ballot_from_ack,
    dumps,
    error_frame,
    my_profile,
    my_vote,
    personal_state,
    with_server_time,
)
from polls.protocol.roles import ROLES, Role

__all__ = [
    "FRAME_TYPES",
    "MAX_REF_LENGTH",
    "ROLES",
    "SERVER_FRAMES",
    "Caller",
    "Command",
    "Role",
    "ack_frame",
    "ballot_from_ack",
    "decode",
    "dumps",
    "error_frame",
    "execute",
    "frame_ref",
    "my_vote",
    "parse",
    "types_for",
    "my_profile",
    "personal_state",
    "with_server_time",
]
