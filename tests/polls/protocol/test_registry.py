"""docs/protocol.md and the frame registries agree, type by type and field by field."""

import re
from pathlib import Path

import pytest

from polls import protocol
from polls.errors import DomainError

DOC = (Path(__file__).resolve().parents[3] / "docs" / "protocol.md").read_text()
TICKED = re.compile(r"`([^`]+)`")


def table_rows(heading: str) -> list[list[str]]:
    """The cells of the first table after a `## heading`, header and rule left out."""
    section = DOC.split(f"\n## {heading}\n", 1)[1]
    rows, started = [], False
    for line in section.splitlines():
        if line.startswith("|"):
            started = True
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif started:
            break
    return rows[2:]


def documented_client_frames() -> dict[str, dict]:
    frames = {}
    for types, who, fields, fallback, *_ in table_rows("Client frames"):
        roles = set(protocol.ROLES) if who == "anyone" else {r.strip() for r in who.split(",")}
        declared = {name.rstrip("?"): not name.endswith("?") for name in TICKED.findall(fields)}
        for name in TICKED.findall(types):
            assert name not in frames, f"{name} is documented twice"
            frames[name] = {"roles": roles, "fields": declared, "http_fallback": fallback == "yes"}
    return frames


def registered_client_frames() -> dict[str, dict]:
    return {
        name: {
            "roles": set(spec.roles),
            "fields": {field: spec.fields[field].required for field in spec.fields},
            "http_fallback": spec.http_fallback,
        }
        for name, spec in protocol.FRAME_TYPES.items()
    }


def test_the_client_frame_table_lists_exactly_the_registered_types():
    assert sorted(documented_client_frames()) == sorted(protocol.FRAME_TYPES)


@pytest.mark.parametrize("name", sorted(protocol.FRAME_TYPES))
def test_each_client_frame_is_documented_with_its_roles_fields_and_fallback(name):
    assert documented_client_frames()[name] == registered_client_frames()[name]


def test_the_server_frame_table_matches_the_builders():
    documented = {}
    for types, fields in (row[:2] for row in table_rows("Server frames")):
        (name,) = TICKED.findall(types)
        documented[name] = tuple(TICKED.findall(fields.split(", and", 1)[0]))
    assert documented == protocol.SERVER_FRAMES


def test_a_field_the_type_does_not_declare_is_ignored():
    command = protocol.parse({"type": "ping", "ref": "p", "sent_at": 5, "poll": "x"}, role=protocol.Role.PARTICIPANT)
    assert command.fields == {"ref": "p"}


@pytest.mark.parametrize("name", sorted(protocol.FRAME_TYPES))
def test_every_type_is_refused_for_roles_that_may_not_send_it(name):
    spec = protocol.FRAME_TYPES[name]
    for role in set(protocol.ROLES) - spec.roles:
        with pytest.raises(DomainError) as err:
            protocol.parse({"type": name, "ref": "r"}, role=role)
        assert err.value.code == "forbidden"


def test_the_http_fallback_takes_only_the_types_declared_for_it():
    fallback = {n for n, s in protocol.FRAME_TYPES.items() if s.http_fallback}
    assert fallback == {"vote", "profile", "ask", "upvote", "unvote"}
    with pytest.raises(DomainError) as err:
        protocol.parse({"type": "ping"}, role=protocol.Role.PARTICIPANT, http=True)
    assert err.value.code == "unknown_type"
