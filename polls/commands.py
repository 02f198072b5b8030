"""Carry out a parsed client command through the services; shared by the websocket and HTTP paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polls import protocol, services
from polls.errors import DomainError
from polls.protocol import Command


def vote_request(command: Command, *, event_id: int, participant_id: int | None) -> services.VoteRequest:
    """The ballot of a parsed `vote` command, for services.votes_cast or the process's vote writer."""
    if participant_id is None:
        raise DomainError("not_joined")
    return services.VoteRequest(
        participant_id=participant_id, event_id=event_id, poll_id=command.poll, ref=command.ref, ballot=command.ballot
    )


def vote_ack(command: Command, outcome: services.VoteOutcome) -> dict[str, Any]:
    ack = protocol.ack_for_vote(ref=command.ref, poll=outcome.poll_id, ballot=outcome.ballot.as_json())
    if outcome.total is not None and outcome.version is not None:
        ack["results"] = protocol.results_payload(
            poll_id=outcome.poll_id, total=outcome.total, version=outcome.version, detail=None
        )
    return ack


def _vote(command: Command, *, event_id: int, user, participant_id: int | None) -> dict[str, Any]:
    request = vote_request(command, event_id=event_id, participant_id=participant_id)
    outcome = services.vote_cast(
        participant_id=request.participant_id,
        event_id=request.event_id,
        poll_id=request.poll_id,
        ref=request.ref,
        ballot=request.ballot,
    )
    return vote_ack(command, outcome)


def _poll_action(service: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    def run(command: Command, *, event_id: int, user, participant_id: int | None) -> dict[str, Any]:
        service(event_id=event_id, poll_id=command.poll, user=user)
        return protocol.ack_frame(ref=command.ref, poll=command.poll)

    return run


def _teaching_point_action(service: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    def run(command: Command, *, event_id: int, user, participant_id: int | None) -> dict[str, Any]:
        service(event_id=event_id, teaching_point_id=command.teaching_point, user=user)
        return protocol.ack_frame(ref=command.ref, teaching_point=command.teaching_point)

    return run


def _open_poll(command: Command, *, event_id: int, user, participant_id: int | None) -> dict[str, Any]:
    poll = services.poll_open(event_id=event_id, poll_id=command.poll, user=user, duration=command.duration)
    closes_at = int(poll.closes_at.timestamp() * 1000) if poll.closes_at else None
    return protocol.ack_frame(ref=command.ref, poll=command.poll, closes_at=closes_at)


def _duplicate_poll(command: Command, *, event_id: int, user, participant_id: int | None) -> dict[str, Any]:
    copy = services.poll_duplicate(event_id=event_id, poll_id=command.poll, user=user)
    return protocol.ack_frame(ref=command.ref, poll=command.poll, copy=copy.id)


def _answer_action(approve: bool) -> Callable[..., dict[str, Any]]:
    def run(command: Command, *, event_id: int, user, participant_id: int | None) -> dict[str, Any]:
        services.answer_moderate(event_id=event_id, answer_id=command.answer, approve=approve, user=user)
        return protocol.ack_frame(ref=command.ref, answer=command.answer)

    return run


def _fact_action(service: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    def run(command: Command, *, event_id: int, user, participant_id: int | None) -> dict[str, Any]:
        service(event_id=event_id, fact_id=command.fact, user=user)
        return protocol.ack_frame(ref=command.ref, fact=command.fact)

    return run


def _new_round(command: Command, *, event_id: int, user, participant_id: int | None) -> dict[str, Any]:
    copy = services.poll_new_round(event_id=event_id, poll_id=command.poll, user=user)
    return protocol.ack_frame(ref=command.ref, poll=command.poll, copy=copy.id, round=copy.round_number)


def _show_segments(command: Command, *, event_id: int, user, participant_id: int | None) -> dict[str, Any]:
    services.segments_show(event_id=event_id, attribute=command.attribute, user=user)
    return protocol.ack_frame(ref=command.ref, attribute=command.attribute)


def _profile(command: Command, *, event_id: int, user, participant_id: int | None) -> dict[str, Any]:
    if participant_id is None:
        raise DomainError("not_joined")
    profile = services.profile_set(participant_id=participant_id, event_id=event_id, answers=command.answers)
    return protocol.ack_frame(ref=command.ref, profile=profile)


def _show_case(command: Command, *, event_id: int, user, participant_id: int | None) -> dict[str, Any]:
    services.case_show(event_id=event_id, case_id=command.case, user=user)
    return protocol.ack_frame(ref=command.ref, case=command.case)


def _event_action(service: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    def run(command: Command, *, event_id: int, user, participant_id: int | None) -> dict[str, Any]:
        event = service(event_id=event_id, user=user)
        return protocol.ack_frame(ref=command.ref, status=event.status)

    return run


HANDLERS: dict[str, Callable[..., dict[str, Any]]] = {
    "vote": _vote,
    "open_poll": _open_poll,
    "close_poll": _poll_action(services.poll_close),
    "reveal_results": _poll_action(services.results_reveal),
    "hide_results": _poll_action(services.results_hide),
    "reveal_preferred": _poll_action(services.preferred_reveal),
    "hide_preferred": _poll_action(services.preferred_hide),
    "reset_poll": _poll_action(services.poll_reset),
    "duplicate_poll": _duplicate_poll,
    "approve_answer": _answer_action(True),
    "reject_answer": _answer_action(False),
    "reveal_fact": _fact_action(services.fact_reveal),
    "new_round": _new_round,
    "show_segments": _show_segments,
    "profile": _profile,
    "hide_fact": _fact_action(services.fact_hide),
    "show_case": _show_case,
    "reveal_teaching_point": _teaching_point_action(services.teaching_point_reveal),
    "hide_teaching_point": _teaching_point_action(services.teaching_point_hide),
    "start_event": _event_action(services.event_start),
    "end_event": _event_action(services.event_end),
}


def execute(command: Command, *, event_id: int, user=None, participant_id: int | None = None) -> dict[str, Any]:
    """Run a command already parsed for the caller's role; returns the `ack` frame or raises DomainError."""
    return HANDLERS[command.type](command, event_id=event_id, user=user, participant_id=participant_id)
