import pytest
from django.db import IntegrityError, transaction

from polls import selectors, services
from polls.errors import DomainError
from polls.live.groups import event_group
from polls.models import ModeratorAction, Poll, Vote, VoteChoice
from polls.protocol import outbound
from tests.factories import build_world, make_case, make_event, make_participant, make_poll, option_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    w = build_world()
    return w.moderator, w.case, w.event, w.poll


def test_duplicate_vote_row_is_refused_by_the_database(setup):
    _, _, event, poll = setup
    participant = make_participant(event)
    Vote.objects.create(poll=poll, participant=participant)
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(poll=poll, participant=participant)


def test_poll_state_machine_refuses_illegal_transitions(setup):
    moderator, _, event, poll = setup
    with pytest.raises(DomainError) as err:
        services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
    assert err.value.code == "invalid_transition"
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    with pytest.raises(DomainError) as err:
        services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    assert err.value.code == "invalid_transition"
    services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)  # re-open is allowed
    assert Poll.objects.get(pk=poll.id).state == "open"


def test_draft_poll_results_cannot_be_revealed(setup):
    moderator, _, event, poll = setup
    with pytest.raises(DomainError) as err:
        services.results_reveal(event_id=event.id, poll_id=poll.id, user=moderator)
    assert err.value.code == "invalid_transition"


def test_database_refuses_visible_results_on_a_draft_poll(setup):
    _, _, _, poll = setup
    with pytest.raises(IntegrityError), transaction.atomic():
        Poll.objects.filter(pk=poll.id).update(results_visible=True)


def test_opening_a_poll_starts_the_event_and_puts_the_poll_on_screen(setup, django_capture_on_commit_callbacks):
    moderator, case, event, poll = setup
    with django_capture_on_commit_callbacks() as callbacks:
        services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    event.refresh_from_db()
    assert event.status == "live"
    assert event.current_poll_id == poll.id and event.current_case_id == case.id
    assert len(callbacks) == 1  # exactly one state broadcast, scheduled after commit
    assert ModeratorAction.objects.filter(event=event, action="open_poll", user=moderator).exists()


def test_state_changes_bump_the_state_version(setup):
    moderator, case, event, poll = setup
    before = event.state_version
    services.case_show(event_id=event.id, case_id=case.id, user=moderator)
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    event.refresh_from_db()
    assert event.state_version == before + 2


def test_vote_is_recorded_and_changed_while_open(setup, django_capture_on_commit_callbacks):
    moderator, _, event, poll = setup
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    participant = make_participant(event)
    first, second = option_ids(poll)
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = services.vote_cast(
            participant_id=participant.id, event_id=event.id, poll_id=poll.id, option_ids=(first,), ref="r1"
        )
    assert outcome.changed and len(callbacks) == 1
    services.vote_cast(
        participant_id=participant.id, event_id=event.id, poll_id=poll.id, option_ids=(second,), ref="r2"
    )
    total, counts = selectors.poll_tally(poll_id=poll.id)
    assert (total, counts) == (1, {first: 0, second: 1})


def test_same_ref_twice_counts_once_and_conflicting_ref_is_refused(setup):
    moderator, _, event, poll = setup
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    participant = make_participant(event)
    first, second = option_ids(poll)
    for _ in range(5):
        services.vote_cast(
            participant_id=participant.id, event_id=event.id, poll_id=poll.id, option_ids=(first,), ref="r1"
        )
    with pytest.raises(DomainError) as err:
        services.vote_cast(
            participant_id=participant.id, event_id=event.id, poll_id=poll.id, option_ids=(second,), ref="r1"
        )
    assert err.value.code == "idempotency_conflict"
    assert selectors.poll_tally(poll_id=poll.id) == (1, {first: 1, second: 0})
    assert VoteChoice.objects.count() == 1


@pytest.mark.parametrize(("state", "code"), [("draft", "poll_not_open"), ("closed", "poll_closed")])
def test_vote_on_a_poll_that_is_not_open_is_refused(setup, state, code):
    _, _, event, poll = setup
    Poll.objects.filter(pk=poll.id).update(state=state)
    participant = make_participant(event)
    with pytest.raises(DomainError) as err:
        services.vote_cast(
            participant_id=participant.id,
            event_id=event.id,
            poll_id=poll.id,
            option_ids=tuple(option_ids(poll)[:1]),
            ref="r",
        )
    assert err.value.code == code
    assert not Vote.objects.exists()


def test_vote_with_another_polls_option_or_another_events_poll_is_refused(setup):
    moderator, case, event, poll = setup
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    other_poll = make_poll(event, case)
    participant = make_participant(event)
    with pytest.raises(DomainError) as err:
        services.vote_cast(
            participant_id=participant.id,
            event_id=event.id,
            poll_id=poll.id,
            option_ids=tuple(option_ids(other_poll)[:1]),
            ref="a",
        )
    assert err.value.code == "invalid_option"
    foreign_event = make_event(cases=[case])
    foreign_poll = make_poll(foreign_event, case, state="open")
    with pytest.raises(DomainError) as err:
        services.vote_cast(
            participant_id=participant.id,
            event_id=event.id,
            poll_id=foreign_poll.id,
            option_ids=tuple(option_ids(foreign_poll)[:1]),
            ref="b",
        )
    assert err.value.code == "unknown_poll"
    assert not Vote.objects.exists()


def test_single_choice_poll_takes_exactly_one_option(setup):
    moderator, _, event, poll = setup
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    participant = make_participant(event)
    with pytest.raises(DomainError) as err:
        services.vote_cast(
            participant_id=participant.id,
            event_id=event.id,
            poll_id=poll.id,
            option_ids=tuple(option_ids(poll)),
            ref="a",
        )
    assert err.value.code == "too_many_options"


def test_case_and_teaching_point_must_belong_to_the_event(setup):
    from tests.factories import make_teaching_point

    moderator, case, event, _ = setup
    stranger_case = make_case(title="Elsewhere")
    with pytest.raises(DomainError) as err:
        services.case_show(event_id=event.id, case_id=stranger_case.id, user=moderator)
    assert err.value.code == "unknown_case"
    with pytest.raises(DomainError) as err:
        services.teaching_point_reveal(
            event_id=event.id, teaching_point_id=make_teaching_point(stranger_case).id, user=moderator
        )
    assert err.value.code == "unknown_teaching_point"
    point = make_teaching_point(case)
    services.teaching_point_reveal(event_id=event.id, teaching_point_id=point.id, user=moderator)
    services.teaching_point_reveal(event_id=event.id, teaching_point_id=point.id, user=moderator)
    state = outbound.state_frames(event_id=event.id)["public"]
    assert [p["id"] for p in state["teaching_points"]] == [point.id]
    assert state["teaching_points"][0]["references"][0]["nct"] == "NCT03651128"


def test_ending_the_event_closes_open_polls_and_refuses_joins(setup):
    moderator, _, event, poll = setup
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    services.event_end(event_id=event.id, user=moderator)
    assert Poll.objects.get(pk=poll.id).state == "closed"
    event.refresh_from_db()
    with pytest.raises(DomainError) as err:
        services.participant_join(event=event)
    assert err.value.code == "event_ended"
    with pytest.raises(DomainError) as err:
        services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    assert err.value.code == "event_ended"


def test_public_state_withholds_counts_until_revealed(setup):
    moderator, _, event, poll = setup
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    participant = make_participant(event)
    services.vote_cast(
        participant_id=participant.id,
        event_id=event.id,
        poll_id=poll.id,
        option_ids=tuple(option_ids(poll)[:1]),
        ref="a",
    )
    frames = outbound.state_frames(event_id=event.id)
    assert "counts" not in frames["public"]["results"] and frames["public"]["results"]["total"] == 1
    assert frames["moderator"]["results"]["counts"] == {str(option_ids(poll)[0]): 1, str(option_ids(poll)[1]): 0}
    assert "agenda" in frames["moderator"] and "agenda" not in frames["public"]
    services.results_reveal(event_id=event.id, poll_id=poll.id, user=moderator)
    assert "counts" in outbound.state_frames(event_id=event.id)["public"]["results"]


def test_vote_query_count_is_bounded(setup, django_assert_max_num_queries):
    moderator, _, event, poll = setup
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    participant = make_participant(event)
    ballot = tuple(option_ids(poll)[:1])
    # receipt, poll, options, vote lookup, vote insert, choice insert, receipt insert, the total for
    # the ack (+ savepoint pair)
    with django_assert_max_num_queries(10):
        services.vote_cast(
            participant_id=participant.id, event_id=event.id, poll_id=poll.id, option_ids=ballot, ref="a"
        )


def test_state_broadcast_goes_to_the_event_group_after_commit(setup, django_capture_on_commit_callbacks, monkeypatch):
    moderator, _, event, poll = setup
    sent = []
    monkeypatch.setattr("polls.live.broadcast._send", lambda group, message: sent.append((group, message)))
    with django_capture_on_commit_callbacks(execute=True):
        services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    assert [(g, m["kind"], m["poll"]) for g, m in sent] == [(event_group(event.id), "state", poll.id)]


def test_failed_transaction_broadcasts_nothing(setup, django_capture_on_commit_callbacks, monkeypatch):
    moderator, _, event, poll = setup
    sent = []
    monkeypatch.setattr("polls.live.broadcast._send", lambda group, message: sent.append(group))
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
            raise RuntimeError("roll back")
    assert sent == []
    assert Poll.objects.get(pk=poll.id).state == "draft"


# ------------------------------------------------- patient identifiers at go-live (issue 16)


def test_an_event_does_not_go_live_with_an_unacknowledged_identifier(django_capture_on_commit_callbacks):
    from cases import services as case_services
    from cases.identifiers import fingerprint
    from cases.models import CaseFact
    from polls.errors import DomainError
    from polls.models import ModeratorAction
    from tests.factories import make_case, make_event, make_moderator, make_poll

    moderator = make_moderator()
    case = make_case()
    event = make_event(cases=[case], moderators=[moderator])
    poll = make_poll(event, case)
    # Written past the authoring forms (an import, an old case): the guard reads it again at go-live.
    CaseFact.objects.create(case=case, position=1, label="Contact", text="Daughter on 717-555-0143")
    for start in (
        lambda: services.event_start(event_id=event.id, user=moderator),
        lambda: services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator),
    ):
        with pytest.raises(DomainError) as refused:
            start()
        assert refused.value.code == "unacknowledged_identifiers"
        assert "Case fact 1: text (a telephone or fax number)" in refused.value.message
        assert "717" not in refused.value.message  # where and what kind, never the text
    event.refresh_from_db()
    assert event.status == "draft" and not ModeratorAction.objects.filter(event=event, action="start_event").exists()

    print_ = fingerprint("phone", "717-555-0143")
    case_services.identifiers_acknowledged(case=case, user=moderator, findings=[("Case fact 1: text", "phone", print_)])
    with django_capture_on_commit_callbacks(execute=True):
        services.event_start(event_id=event.id, user=moderator)
    event.refresh_from_db()
    assert event.status == "live"


def test_an_acknowledgement_covers_only_the_text_it_was_given_for():
    from cases import services as case_services
    from cases.identifiers import fingerprint
    from cases.models import CaseFact
    from polls.errors import DomainError
    from tests.factories import make_case, make_event, make_moderator

    moderator = make_moderator()
    case = make_case()
    event = make_event(cases=[case], moderators=[moderator])
    acknowledged = fingerprint("phone", "717-555-0143")
    case_services.identifiers_acknowledged(
        case=case, user=moderator, findings=[("Case fact 1: text", "phone", acknowledged)]
    )
    CaseFact.objects.create(case=case, position=1, label="Contact", text="Daughter on 717-555-0199")  # another number
    with pytest.raises(DomainError):
        services.event_start(event_id=event.id, user=moderator)
