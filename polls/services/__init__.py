"""Writes: every state change of an event, each atomic, each broadcast after commit.

Interfaces (consumers, views, admin actions, management commands) call these and nothing else
to change live state. Each function is keyword-only and states its precondition.
"""

from polls.services.access import event_moderators_set, presenter_key_rotate
from polls.services.audience import (
    panelist_participant,
    poll_new_round,
    profile_questions_changed,
    profile_questions_from_template,
    profile_set,
    segments_show,
)
from polls.services.authoring import agenda_complete, quick_poll_add, standard_polls_add
from polls.services.credit import credit_claim
from polls.services.flow import (
    EVENT_TRANSITIONS,
    POLL_TRANSITIONS,
    case_show,
    event_end,
    event_start,
    expire_due_polls,
    poll_close,
    poll_expire,
    poll_open,
    results_hide,
    results_reveal,
)
from polls.services.followups import (
    followup_answer,
    followup_open,
    followup_signup,
    followup_unsubscribe,
    followups_send,
)
from polls.services.moderation import answer_moderate, answers_approve_waiting, poll_duplicate, poll_reset
from polls.services.panel import (
    invited_panelist_participant,
    panelist_invitation_create,
    panelist_invitation_revoke,
)
from polls.services.questions import (
    UpvoteOutcome,
    UpvoteRequest,
    question_answer,
    question_approve,
    question_ask,
    question_dismiss,
    question_merge,
    question_pin,
    question_restore,
    question_unpin,
    question_upvote,
    question_upvotes,
    questions_export_recorded,
    questions_settings_changed,
)
from polls.services.records import export_recorded, recap_save, report_recorded
from polls.services.reveals import (
    fact_hide,
    fact_reveal,
    preferred_hide,
    preferred_reveal,
    teaching_point_hide,
    teaching_point_reveal,
)
from polls.services.stage import screen_show, screen_step, stage_pages_set, text_view_set, theme_set
from polls.services.votes import VoteOutcome, VoteRequest, participant_join, vote_cast, votes_cast

__all__ = [
    "EVENT_TRANSITIONS",
    "POLL_TRANSITIONS",
    "VoteOutcome",
    "VoteRequest",
    "UpvoteOutcome",
    "UpvoteRequest",
    "agenda_complete",
    "quick_poll_add",
    "answer_moderate",
    "answers_approve_waiting",
    "case_show",
    "credit_claim",
    "event_end",
    "event_moderators_set",
    "followup_answer",
    "followup_open",
    "followup_signup",
    "followup_unsubscribe",
    "followups_send",
    "event_start",
    "expire_due_polls",
    "export_recorded",
    "fact_hide",
    "fact_reveal",
    "panelist_participant",
    "profile_questions_changed",
    "profile_questions_from_template",
    "invited_panelist_participant",
    "panelist_invitation_create",
    "panelist_invitation_revoke",
    "participant_join",
    "poll_new_round",
    "profile_set",
    "question_answer",
    "question_approve",
    "question_ask",
    "question_dismiss",
    "question_merge",
    "question_pin",
    "question_restore",
    "question_unpin",
    "question_upvote",
    "question_upvotes",
    "questions_export_recorded",
    "questions_settings_changed",
    "recap_save",
    "report_recorded",
    "screen_show",
    "screen_step",
    "stage_pages_set",
    "segments_show",
    "standard_polls_add",
    "poll_close",
    "poll_duplicate",
    "poll_expire",
    "poll_open",
    "poll_reset",
    "preferred_hide",
    "presenter_key_rotate",
    "preferred_reveal",
    "results_hide",
    "results_reveal",
    "teaching_point_hide",
    "text_view_set",
    "theme_set",
    "teaching_point_reveal",
    "vote_cast",
    "votes_cast",
]
