"""Domain errors with stable machine codes.

Services raise these; interfaces (consumers, views) translate them into error frames or
HTTP responses. The catalogue is the single list of codes clients may see, documented in
docs/protocol.md (a test fails when a code is undocumented).
"""

from django.utils.translation import gettext_lazy as _

# Messages are lazy: each is rendered in the reader's page language where it is sent (the
# consumer's reply, JsonResponse, templates); codes never change with the language.
ERROR_CODES: dict[str, str] = {
    "bad_request": _("The message is malformed or a field has the wrong type."),
    "invalid_json": _("The message is not valid JSON."),
    "unknown_type": _("This message type is not known for this connection."),
    "binary_not_supported": _("Binary frames are not accepted; send JSON text."),
    "frame_too_large": _("The message is larger than the server accepts."),
    "rate_limited": _("Too many messages; slow down and retry shortly."),
    "forbidden": _("You are not allowed to do that in this event."),
    "unknown_event": _("There is no event with that code."),
    "unknown_poll": _("That poll is not part of this event."),
    "unknown_case": _("That case is not on this event's agenda."),
    "invalid_poll": _(
        "The poll is not complete: its question, kind and options break a rule (the message says which)."
    ),
    "unacknowledged_identifiers": _("Text of the event may identify a patient: remove or acknowledge it first."),
    "unknown_teaching_point": _("That teaching point is not part of this event."),
    "invalid_option": _("An option does not belong to this poll."),
    "duplicate_option": _("The same option was chosen twice."),
    "too_many_options": _("Too many options were chosen for this poll."),
    "no_option": _("Choose an option before voting."),
    "incomplete_ranking": _("Rank every option, each once."),
    "invalid_value": _("The answer is missing or not of the right type."),
    "out_of_range": _("The number is outside the allowed range."),
    "text_too_long": _("The answer is too long."),
    "unknown_answer": _("That answer is not part of this poll."),
    "unknown_fact": _("That case item is not part of this event."),
    "confirmation_required": _("Send confirm: true to do this."),
    "invalid_profile": _("That profile answer is not one this event offers."),
    "unknown_attribute": _("This event does not ask that profile question."),
    "unknown_invitation": _("That panelist link is not part of this event."),
    "not_a_round": _("Only single-choice and rating-scale polls can be asked again as a round."),
    "poll_not_open": _("This poll has not been opened yet."),
    "poll_closed": _("This poll is closed."),
    "event_ended": _("This event has ended."),
    "invalid_transition": _("That change is not allowed from the current state."),
    "idempotency_conflict": _("This ref was already used for a different ballot."),
    "not_joined": _("Open the event page to join before voting."),
    "questions_off": _("This event does not take audience questions."),
    "empty_question": _("Write a question before sending it."),
    "question_too_long": _("Questions are limited to 300 characters."),
    "name_too_long": _("Names are limited to 40 characters."),
    "invalid_characters": _("The text holds control or direction characters; remove them."),
    "names_not_allowed": _("Questions in this event are anonymous; leave the name out."),
    "too_many_questions": _("You have asked many questions in the last minute; wait a little."),
    "unknown_question": _("That question is not part of this event."),
    "question_dismissed": _("That question was withdrawn by the moderator."),
    "already_claimed": _("Credit for this event was already claimed with this email address."),
    "link_used": _("This link was already used, is not valid or has expired."),
    "unavailable": _("The server could not save this right now; retry."),
    "server_error": _("Something went wrong on the server; retry."),
}


class DomainError(Exception):
    """An expected refusal with a stable code; its message is safe to show to users (lazy: str()
    it in the reader's language)."""

    def __init__(self, code: str, message: str | None = None, **details) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"Unknown error code {code!r}")
        self.code = code
        self.message = message or ERROR_CODES[code]
        # Extra fields of the error frame for a client to act on (documented per code in
        # docs/protocol.md), e.g. the cases whose flagged text stops an event going live.
        self.details = details
        super().__init__(str(self.message))
