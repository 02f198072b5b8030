"""The demo event played through from start to end, as a room of ten and a panel of three would.

Built from the roundtable the product grew from (docs: ../shared/seed): seven of ten refer for CAR T
and three choose a bispecific on a clinical trial; after the discussion a second round moves two
of the three, and every participant is then very likely to refer. Every write goes through
`polls.services`, exactly as the consoles and phones would make it, so the report, the exports
and the recap read a real event. Used by `manage.py replay_demo` (screenshots, the bench) and by
the report tests, which check each figure against the numbers below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from polls import demo, services
from polls.ballots import Ballot
from polls.models import Event, Participant, Poll

# Who is in the room: (specialty, setting, experience). Ten audience members.
AUDIENCE_PROFILES = [
    ("Medical oncology", "Community practice", "11 to 20"),
    ("Medical oncology", "Community practice", "Over 20"),
    ("Medical oncology", "Community practice", "5 to 10"),
    ("Medical oncology", "Community practice", "11 to 20"),
    ("Medical oncology", "Academic centre", "Over 20"),
    ("Hematology/oncology", "Community practice", "11 to 20"),
    ("Hematology/oncology", "Community practice", "5 to 10"),
    ("Hematology/oncology", "Academic centre", "Under 5"),
    ("Hematology/oncology", "Academic centre", "11 to 20"),
    ("Hematology/oncology", "Community practice", "Over 20"),
]
# Index into the first poll's options, per audience member, and a confidence rating.
FIRST_ROUND = [(0, 4), (0, 4), (0, 5), (0, 5), (0, 4), (0, 3), (0, 5), (1, 3), (1, 2), (1, 3)]
SECOND_ROUND = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]  # two of the three bispecific votes move to CAR T
PANEL_FIRST = [0, 0, 0]
LIKELY = [4] * 10  # "Very likely", all ten
MONTHS = [6, 6, 6, 3, 6, 12, 6, 4, 6, 9]
RANKINGS = [  # option indexes, first to last
    (0, 2, 1, 3),
    (0, 2, 1, 3),
    (0, 1, 2, 3),
    (2, 0, 1, 3),
    (0, 2, 3, 1),
    (0, 1, 2, 3),
    (1, 0, 2, 3),
    (0, 2, 1, 3),
    (2, 0, 3, 1),
    (0, 3, 2, 1),
]
# (text, moderation): True approved, False rejected, None left pending.
BARRIERS = [
    ("Travel distance to the CAR T centre", True),
    ("A caregiver for the first weeks", True),
    ("Insurance approval takes too long", True),
    ("Waiting for a manufacturing slot", True),
    ('=HYPERLINK("http://example.invalid")', False),
    ("Patients prefer to stay local", None),
]
PANEL_USERNAMES = ["faculty-ali", "faculty-okoev", "faculty-gao"]
MIN_CELL_SIZE = 3  # the panel of three is shown; smaller segments are merged


@dataclass
class Replay:
    event: Event
    polls: dict[str, Poll] = field(default_factory=dict)  # first, second_round, likely, months, ranking, barriers
    audience: list[Participant] = field(default_factory=list)
    panel: list[Participant] = field(default_factory=list)


def _vote(event: Event, participant: Participant, poll: Poll, tag: str, ballot: Ballot) -> None:
    services.vote_cast(
        participant_id=participant.id, event_id=event.id, poll_id=poll.id, ref=f"replay-{tag}", ballot=ballot
    )


def _run_poll(event: Event, poll: Poll, user, ballots, *, reveal_preferred: bool = False) -> Poll:
    services.poll_open(event_id=event.id, poll_id=poll.id, user=user)
    for participant, ballot in ballots:
        _vote(event, participant, poll, f"{poll.id}-{participant.id}", ballot)
    services.poll_close(event_id=event.id, poll_id=poll.id, user=user)
    services.results_reveal(event_id=event.id, poll_id=poll.id, user=user)
    if reveal_preferred:
        services.preferred_reveal(event_id=event.id, poll_id=poll.id, user=user)
    poll.refresh_from_db()
    return poll


@transaction.atomic
def replay_demo(*, end: bool = True) -> Replay:
    """Rebuild the demo event (join code CASE2) and play it through; `end=False` leaves it live."""
    result = demo.load_demo(reset=True)
    event, case = result.event, result.case
    user = get_user_model().objects.get(username=result.username)
    Event.objects.filter(pk=event.pk).update(min_cell_size=MIN_CELL_SIZE)
    event.refresh_from_db()
    faculty = []
    for username in PANEL_USERNAMES:
        member, _ = get_user_model().objects.get_or_create(username=username)
        event.panelists.add(member)
        faculty.append(member)
    polls = list(Poll.objects.filter(event=event).order_by("position").prefetch_related("options"))
    first, likely, months, ranking, barriers = polls
    # Authoring before the event: the first question asks for confidence (a draft, untouched).
    Poll.objects.filter(pk=first.pk).update(ask_confidence=True)
    first.refresh_from_db()

    replay = Replay(event=event)
    services.event_start(event_id=event.id, user=user)
    for profile in AUDIENCE_PROFILES:
        participant = services.participant_join(event=event)
        services.profile_set(
            participant_id=participant.id,
            event_id=event.id,
            answers=dict(zip(["specialty", "setting", "experience"], profile, strict=True)),
        )
        replay.audience.append(participant)
    replay.panel = [services.panelist_participant(event=event, user=member) for member in faculty]
    services.case_show(event_id=event.id, case_id=case.id, user=user)

    options = [o.id for o in first.options.all()]
    ballots = [
        (p, Ballot(options=(options[i],), confidence=c)) for p, (i, c) in zip(replay.audience, FIRST_ROUND, strict=True)
    ]
    panel = zip(replay.panel, PANEL_FIRST, strict=True)
    ballots += [(p, Ballot(options=(options[i],), confidence=5)) for p, i in panel]
    replay.polls["first"] = _run_poll(event, first, user, ballots, reveal_preferred=True)

    points = list(case.teaching_points.order_by("position"))
    services.fact_reveal(event_id=event.id, fact_id=case.facts.first().id, user=user)
    for point in points[:2]:
        services.teaching_point_reveal(event_id=event.id, teaching_point_id=point.id, user=user)

    second = services.poll_new_round(event_id=event.id, poll_id=first.id, user=user)
    options = [o.id for o in second.options.all()]
    moved = zip(replay.audience, SECOND_ROUND, strict=True)
    ballots = [(p, Ballot(options=(options[i],), confidence=5)) for p, i in moved]
    replay.polls["second_round"] = _run_poll(event, second, user, ballots, reveal_preferred=True)

    options = [o.id for o in likely.options.all()]
    ballots = [(p, Ballot(options=(options[i],))) for p, i in zip(replay.audience, LIKELY, strict=True)]
    replay.polls["likely"] = _run_poll(event, likely, user, ballots)

    ballots = [(p, Ballot(value=float(v))) for p, v in zip(replay.audience, MONTHS, strict=True)]
    replay.polls["months"] = _run_poll(event, months, user, ballots)

    options = [o.id for o in ranking.options.all()]
    orders = zip(replay.audience, RANKINGS, strict=True)
    ballots = [(p, Ballot(options=tuple(options[i] for i in order))) for p, order in orders]
    replay.polls["ranking"] = _run_poll(event, ranking, user, ballots)

    services.poll_open(event_id=event.id, poll_id=barriers.id, user=user)
    for participant, (text, _) in zip(replay.audience, BARRIERS, strict=False):
        _vote(event, participant, barriers, f"text-{participant.id}", Ballot(text=text))
    services.poll_close(event_id=event.id, poll_id=barriers.id, user=user)
    for vote in barriers.votes.order_by("id"):
        approve = dict(BARRIERS)[vote.value_text]
        if approve is not None:
            services.answer_moderate(event_id=event.id, answer_id=vote.id, approve=approve, user=user)
    services.results_reveal(event_id=event.id, poll_id=barriers.id, user=user)
    barriers.refresh_from_db()
    replay.polls["barriers"] = barriers

    for point in points[2:]:
        services.teaching_point_reveal(event_id=event.id, teaching_point_id=point.id, user=user)
    if end:
        services.event_end(event_id=event.id, user=user)
    event.refresh_from_db()
    return replay
