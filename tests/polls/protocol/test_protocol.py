"""The protocol module and docs/protocol.md agree; parsing is strict about types."""

import json
from pathlib import Path

import pytest

from polls import protocol
from polls.errors import ERROR_CODES, DomainError

DOC = (Path(__file__).resolve().parents[3] / "docs" / "protocol.md").read_text()


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_error_code_is_documented(code):
    assert f"`{code}`" in DOC


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "vote", "ref": "r", "poll": True, "options": [1]}, "bad_request"),
        ({"type": "vote", "ref": "r", "poll": 1, "options": [True]}, "bad_request"),
        ({"type": "vote", "ref": "r", "poll": 1, "options": [1, 1]}, "duplicate_option"),
        ({"type": "vote", "ref": "r", "poll": 1, "value": "6"}, "invalid_value"),
        ({"type": "vote", "ref": "r", "poll": 1, "text": 6}, "invalid_value"),
        ({"type": "vote", "ref": "r", "poll": 1, "options": [1], "confidence": 2.5}, "bad_request"),
        ({"type": "vote", "ref": "x" * 65, "poll": 1, "options": [1]}, "bad_request"),
        ({"type": "vote", "poll": 1, "options": [1]}, "bad_request"),
        ({"type": "open_poll", "poll": 1}, "forbidden"),
        ({"type": "nope"}, "unknown_type"),
    ],
)
def test_participant_frames_are_typed_strictly(frame, code):
    with pytest.raises(DomainError) as err:
        protocol.parse(frame, role=protocol.Role.PARTICIPANT)
    assert err.value.code == code


def test_reset_needs_confirmation_and_timer_has_bounds():
    with pytest.raises(DomainError) as err:
        protocol.parse({"type": "reset_poll", "poll": 1}, role=protocol.Role.MODERATOR)
    assert err.value.code == "confirmation_required"
    with pytest.raises(DomainError):
        protocol.parse({"type": "open_poll", "poll": 1, "duration": 4}, role=protocol.Role.MODERATOR)
    command = protocol.parse({"type": "open_poll", "poll": 1, "duration": 60}, role=protocol.Role.MODERATOR)
    assert command.duration == 60


def test_my_vote_and_server_time_are_spliced_into_shared_state_text():
    text = protocol.dumps({"type": "state", "poll": None})
    personal = json.loads(protocol.personal_state(text, protocol.dumps(protocol.my_vote(3, {"options": [4]}))))
    server_time = personal.pop("server_time")
    assert personal == {"type": "state", "poll": None, "my_vote": {"poll": 3, "options": [4]}}
    assert isinstance(server_time, int) and server_time > 1_700_000_000_000  # the server's clock in ms
