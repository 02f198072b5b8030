"""Domain errors with stable machine codes.

Services raise these; interfaces (consumers, views) translate them into error frames or
HTTP responses. The catalogue is the single list of codes clients may see, documented in
docs/protocol.md (a test fails when a code is undocumented).
"""

ERROR_CODES: dict[str, str] = {
    "bad_request": "The message is malformed or a field has the wrong type.",
    "invalid_json": "The message is not valid JSON.",
    "unknown_type": "This message type is not known for this connection.",
    "binary_not_supported": "Binary frames are not accepted; send JSON text.",
    "frame_too_large": "The message is larger than the server accepts.",
    "rate_limited": "Too many messages; slow down and retry shortly.",
    "forbidden": "You are not allowed to do that in this event.",
    "unknown_event": "There is no event with that code.",
    "unknown_poll": "That poll is not part of this event.",
    "unknown_case": "That case is not on this event's agenda.",
    "invalid_poll": "The poll is not complete: its question, kind and options break a rule (the message says which).",
    "unacknowledged_identifiers": "Text of the event may identify a patient: remove or acknowledge it first.",
    "unknown_teaching_point": "That teaching point is not part of this event.",
    "invalid_option": "An option does not belong to this poll.",
    "duplicate_option": "The same option was chosen twice.",
    "too_many_options": "Too many options were chosen for this poll.",
    "no_option": "Choose an option before voting.",
    "incomplete_ranking": "Rank every option, each once.",
    "invalid_value": "The answer is missing or not of the right type.",
    "out_of_range": "The number is outside the allowed range.",
    "text_too_long": "The answer is too long.",
    "unknown_answer": "That answer is not part of this poll.",
    "unknown_fact": "That case item is not part of this event.",
    "confirmation_required": "Send confirm: true to do this.",
    "invalid_profile": "That profile answer is not one this event offers.",
    "unknown_attribute": "This event does not ask that profile question.",
    "unknown_invitation": "That panelist link is not part of this event.",
    "not_a_round": "Only single-choice and rating-scale polls can be asked again as a round.",
    "poll_not_open": "This poll has not been opened yet.",
    "poll_closed": "This poll is closed.",
    "event_ended": "This event has ended.",
    "invalid_transition": "That change is not allowed from the current state.",
    "idempotency_conflict": "This ref was already used for a different ballot.",
    "not_joined": "Open the event page to join before voting.",
    "questions_off": "This event does not take audience questions.",
    "empty_question": "Write a question before sending it.",
    "question_too_long": "Questions are limited to 300 characters.",
    "name_too_long": "Names are limited to 40 characters.",
    "invalid_characters": "The text holds control or direction characters; remove them.",
    "names_not_allowed": "Questions in this event are anonymous; leave the name out.",
    "too_many_questions": "You have asked many questions in the last minute; wait a little.",
    "unknown_question": "That question is not part of this event.",
    "question_dismissed": "That question was withdrawn by the moderator.",
    "already_claimed": "Credit for this event was already claimed with this email address.",
    "link_used": "This link was already used, is not valid or has expired.",
    "unavailable": "The server could not save this right now; retry.",
    "server_error": "Something went wrong on the server; retry.",
}


class DomainError(Exception):
    """An expected refusal with a stable code; its message is safe to show to users."""

    def __init__(self, code: str, message: str | None = None, **details) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"Unknown error code {code!r}")
        self.code = code
        self.message = message or ERROR_CODES[code]
        # Extra fields of the error frame for a client to act on (documented per code in
        # docs/protocol.md), e.g. the cases whose flagged text stops an event going live.
        self.details = details
        super().__init__(self.message)
