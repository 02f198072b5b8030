"""Audience questions in the domain: asking, upvoting, moderating, who sees what, the export."""

import json

import pytest
from django.db import IntegrityError, transaction

from polls import exports, selectors, services
from polls.errors import DomainError
from polls.models import AudienceQuestion, ModeratorAction, QuestionUpvote
from polls.protocol import outbound
from tests.factories import build_world, make_event, make_participant, participant_session, user_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return build_world(poll=False, phones=4, moderator_session=True)


def ask(w, index=0, text="Is CAR T an option after a bispecific?", ref=None, **kw):
    return services.question_ask(
        participant_id=w.participants[index].id, event_id=w.event.id, ref=ref or f"ask-{text[:20]}", text=text, **kw
    )


def upvote(w, index, question, ref, up=True):
    return services.question_upvote(
        participant_id=w.participants[index].id, event_id=w.event.id, ref=ref, question_id=question.id, up=up
    )


def moderate(w, service, question, **kw):
    return service(event_id=w.event.id, question_id=question.id, user=w.moderator, **kw)


def refused(code, fn, *args, **kw):
    with pytest.raises(DomainError) as err:
        fn(*args, **kw)
    assert err.value.code == code, err.value.code


def view_of(w, index=None):
    view = selectors.event_questions(event_id=w.event.id)
    if index is None:
        return [(q.id, q.state, q.votes) for q in view.for_moderator()]
    return [(q.id, q.state, q.votes) for q in view.for_participant(w.participants[index].id)]


def test_a_question_waits_for_the_moderator_and_only_its_author_sees_it(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        q = ask(w, 0, "  Is   CAR T\nan option?  ")
    assert len(callbacks) == 1  # questions_changed, after commit
    assert (q.text, q.state, q.name) == ("Is CAR T an option?", "pending", "")
    assert view_of(w, 0) == [(q.id, "pending", 0)]
    assert view_of(w, 1) == []
    moderate(w, services.question_approve, q)
    assert view_of(w, 1) == [(q.id, "approved", 0)]


def test_an_event_that_publishes_directly_shows_a_question_at_once(w):
    w.event.questions_moderated = False
    w.event.save()
    q = ask(w)
    assert q.state == "approved" and view_of(w, 3) == [(q.id, "approved", 0)]


def test_ask_is_idempotent_by_ref_and_a_different_text_under_the_same_ref_conflicts(w):
    first = ask(w, ref="r1", text="Why not a bispecific?")
    assert ask(w, ref="r1", text="Why not a bispecific?").id == first.id
    refused("idempotency_conflict", ask, w, ref="r1", text="Something else")
    assert AudienceQuestion.objects.count() == 1


@pytest.mark.parametrize(
    "text, code",
    [
        ("", "empty_question"),
        ("   \n\t ", "empty_question"),
        ("x" * 301, "question_too_long"),
        ("Dose\x00?", "invalid_characters"),
        ("Dose\x07?", "invalid_characters"),
        ("Ask \u202eevil\u202c", "invalid_characters"),
        ("Ask \u2066isolate\u2069", "invalid_characters"),
        ("lone \ud800 surrogate", "invalid_characters"),
    ],
)
def test_bad_question_text_is_refused_and_nothing_is_stored(w, text, code):
    refused(code, ask, w, text=text)
    assert AudienceQuestion.objects.count() == 0


def test_a_question_of_300_characters_is_taken(w):
    assert len(ask(w, text="y" * 300).text) == 300


def test_names_only_where_the_event_allows_them(w):
    refused("names_not_allowed", ask, w, name="Dr. Smith")
    w.event.questions_names_allowed = True
    w.event.save()
    assert ask(w, name=" Dr. Smith ").name == "Dr. Smith"
    refused("name_too_long", ask, w, text="Another one", name="n" * 41)


def test_questions_off_refuses_asking_and_upvoting(w):
    q = ask(w)
    moderate(w, services.question_approve, q)
    w.event.questions_enabled = False
    w.event.save()
    refused("questions_off", ask, w, text="New one")
    refused("questions_off", upvote, w, 1, q, "u1")


def test_five_questions_a_minute_per_participant_then_too_many(w):
    for n in range(5):
        ask(w, 0, text=f"Question number {n}", ref=f"q{n}")
    refused("too_many_questions", ask, w, 0, text="Question number 6", ref="q6")
    assert ask(w, 0, text="Question number 0", ref="q0")  # a resend is not a new question
    assert ask(w, 1, text="Someone else asks", ref="q6")  # the budget is per participant
    assert AudienceQuestion.objects.count() == 6


def test_one_upvote_per_participant_whatever_is_resent(w):
    q = ask(w)
    moderate(w, services.question_approve, q)
    assert upvote(w, 1, q, "u1").votes == 1
    assert upvote(w, 1, q, "u1").votes == 1  # resend
    assert upvote(w, 1, q, "u2").votes == 1  # a second upvote under a new ref changes nothing
    assert upvote(w, 2, q, "u1").votes == 2  # refs are per participant
    assert upvote(w, 1, q, "u3", up=False).votes == 1
    assert upvote(w, 1, q, "u1").votes == 1  # a resent upvote after the unvote does not upvote again
    refused("idempotency_conflict", upvote, w, 1, q, "u1", up=False)
    assert QuestionUpvote.objects.filter(question=q).count() == 1


def test_the_database_refuses_a_second_upvote(w):
    q = ask(w)
    QuestionUpvote.objects.create(question=q, participant=w.participants[1])
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionUpvote.objects.create(question=q, participant=w.participants[1])


def test_upvoting_what_the_phone_cannot_see_is_refused(w):
    pending = ask(w, 0, text="Pending one")
    dismissed = ask(w, 0, text="Dismissed one")
    moderate(w, services.question_dismiss, dismissed)
    other_event = make_event()
    foreign = services.question_ask(
        participant_id=make_participant(other_event).id, event_id=other_event.id, ref="f", text="Foreign question"
    )
    refused("unknown_question", upvote, w, 1, pending, "a")  # someone else's pending question
    refused("question_dismissed", upvote, w, 1, dismissed, "b")
    refused("unknown_question", upvote, w, 1, foreign, "c")  # another event's
    assert upvote(w, 0, pending, "d").votes == 1  # its author may upvote their own pending question
    assert QuestionUpvote.objects.count() == 1


def test_moderation_state_machine_and_audit(w):
    q = ask(w)
    refused("invalid_transition", moderate, w, services.question_pin, q)  # pending
    refused("invalid_transition", moderate, w, services.question_answer, q)
    refused("invalid_transition", moderate, w, services.question_restore, q)
    moderate(w, services.question_dismiss, q)
    assert moderate(w, services.question_restore, q).state == "pending"  # never shown: back to review
    moderate(w, services.question_approve, q)
    assert moderate(w, services.question_pin, q).pinned
    other = ask(w, 1, text="Second question")
    moderate(w, services.question_approve, other)
    moderate(w, services.question_pin, other)
    q.refresh_from_db()
    assert not q.pinned  # one pinned question per event
    answered = moderate(w, services.question_answer, other)
    assert answered.answered and not answered.pinned
    assert not moderate(w, services.question_restore, other).answered
    moderate(w, services.question_dismiss, q)
    assert moderate(w, services.question_restore, q).state == "approved"  # it had been shown
    refused("unknown_question", services.question_approve, event_id=w.event.id, question_id=10**9, user=w.moderator)
    actions = list(ModeratorAction.objects.filter(event=w.event).values_list("action", "target").order_by("id"))
    assert actions[0] == ("dismiss_question", f"question:{q.id}")
    assert {a for a, _ in actions} >= {
        "approve_question", "dismiss_question", "restore_question", "pin_question", "answer_question",
    }  # fmt: skip
    assert all("CAR" not in target for _, target in actions)  # the text is never in the log


def test_pinning_puts_the_questions_screen_up_and_unpinning_leaves_the_screen(w, django_capture_on_commit_callbacks):
    q = ask(w)
    moderate(w, services.question_approve, q)
    services.screen_show(event_id=w.event.id, screen="blank", user=w.moderator)
    version = outbound.state_frames(event_id=w.event.id)["public"]["version"]
    with django_capture_on_commit_callbacks(execute=True):
        moderate(w, services.question_pin, q)
    state = outbound.state_frames(event_id=w.event.id)["public"]
    assert state["event"]["screen"] == "questions"
    assert state["version"] > version  # a new `state` reaches the screens
    moderate(w, services.question_unpin, q)
    # The moderator moves on from there.
    assert outbound.state_frames(event_id=w.event.id)["public"]["event"]["screen"] == "questions"
    services.screen_show(event_id=w.event.id, screen="questions", user=w.moderator)  # chosen directly too


def test_another_events_moderator_cannot_reach_a_question(w):
    q = ask(w)
    elsewhere = make_event(moderators=[w.moderator])
    refused("unknown_question", services.question_approve, event_id=elsewhere.id, question_id=q.id, user=w.moderator)
    q.refresh_from_db()
    assert q.state == "pending"


def test_merge_counts_the_duplicates_upvoters_once_on_the_kept_question(w):
    kept, duplicate = ask(w, 0, text="CAR T after bispecifics?"), ask(w, 1, text="CAR-T after a bispecific?")
    for q in (kept, duplicate):
        moderate(w, services.question_approve, q)
    upvote(w, 2, kept, "k2")
    upvote(w, 2, duplicate, "d2")  # upvoted both: counts once
    upvote(w, 3, duplicate, "d3")
    moderate(w, services.question_pin, duplicate)
    result = services.question_merge(event_id=w.event.id, question_id=duplicate.id, into_id=kept.id, user=w.moderator)
    assert result.id == kept.id
    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.merged_into_id, duplicate.pinned) == ("dismissed", kept.id, False)
    assert set(QuestionUpvote.objects.filter(question=kept).values_list("participant_id", flat=True)) == {
        w.participants[2].id,
        w.participants[3].id,
    }
    assert view_of(w, 3) == [(kept.id, "approved", 2)]
    refused("question_dismissed", upvote, w, 0, duplicate, "late")
    refused(
        "invalid_transition",
        services.question_merge,
        event_id=w.event.id,
        question_id=kept.id,
        into_id=kept.id,
        user=w.moderator,
    )
    refused("invalid_transition", moderate, w, services.question_restore, duplicate)  # merged stays merged
    assert ModeratorAction.objects.filter(action="merge_question").get().target == (
        f"question:{duplicate.id}->question:{kept.id}"
    )


def test_order_pinned_then_votes_then_newest_answered_last(w):
    qs = [ask(w, i, text=f"Question {i}") for i in range(4)]
    for q in qs:
        moderate(w, services.question_approve, q)
    upvote(w, 0, qs[1], "a")
    upvote(w, 1, qs[1], "b")
    upvote(w, 0, qs[2], "c")
    moderate(w, services.question_pin, qs[3])
    moderate(w, services.question_answer, qs[1])
    assert [i for i, _, _ in view_of(w, 0)] == [qs[3].id, qs[2].id, qs[0].id, qs[1].id]


def test_questions_csv_is_for_moderators_escapes_formulas_and_is_audited(client, w):
    w.event.questions_names_allowed = True
    w.event.save()
    q = ask(w, 0, text='=HYPERLINK("http://x")', name="@admin")
    moderate(w, services.question_approve, q)
    upvote(w, 1, q, "u")
    url = f"/e/{w.code}/questions.csv"
    assert client.get(url).status_code == 404  # anonymous
    client.cookies["sessionid"] = participant_session(w.participants[0])
    assert client.get(url).status_code == 404  # a phone
    client.cookies["sessionid"] = user_session(w.moderator)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "id,state,text,name,votes,pinned,answered,merged_into,asked_at"
    assert lines[1].startswith(f'{q.id},approved,"\'=HYPERLINK(""http://x"")",\'@admin,1,False,False,,')
    assert ModeratorAction.objects.filter(event=w.event, action="export_questions").count() == 1
    assert exports.questions_csv(w.event) == response.content.decode()


def test_http_fallback_asks_and_upvotes_and_state_json_carries_the_phones_questions(client, w):
    client.cookies["sessionid"] = participant_session(w.participants[0])

    def post(path, frame):
        response = client.post(f"/e/{w.code}/{path}", data=json.dumps(frame), content_type="application/json")
        return response.status_code, response.json()

    status, ack = post("ask", {"type": "ask", "ref": "h1", "text": "Fallback question?"})
    assert status == 200 and ack == {"type": "ack", "ref": "h1", "question": ack["question"]}
    assert post("vote", {"type": "ask", "ref": "h1", "text": "Fallback question?"})[1] == ack  # same ref, same ack
    status, error = post("ask", {"type": "ask", "ref": "h2", "text": " "})
    assert status == 400 and error["code"] == "empty_question"
    status, ack2 = post("ask", {"type": "upvote", "ref": "h3", "question": ack["question"]})
    assert status == 200 and ack2 == {"type": "ack", "ref": "h3", "question": ack["question"], "votes": 1}
    state = client.get(f"/e/{w.code}/state.json").json()
    assert state["questions"]["items"] == [
        {
            "id": ack["question"],
            "text": "Fallback question?",
            "votes": 1,
            "state": "pending",
            "pinned": False,
            "answered": False,
            "name": None,
            "mine": True,
            "voted": True,
        }
    ]
    client.cookies["sessionid"] = participant_session(w.participants[1])
    assert client.get(f"/e/{w.code}/state.json").json()["questions"]["items"] == []


def test_names_are_hidden_from_the_room_once_the_event_stops_allowing_them(w):
    from polls.protocol import outbound

    w.event.questions_names_allowed = True
    w.event.save()
    q = ask(w, 0, name="Dr. Who")
    moderate(w, services.question_approve, q)
    w.event.questions_names_allowed = False
    w.event.save()
    message = outbound.build_questions_message(w.event.id)
    phone = json.loads(outbound.questions_text(message, participant_id=w.participants[1].id))
    assert phone["items"][0]["name"] is None and phone["names"] is False
    assert json.loads(message["public"])["items"][0]["name"] is None
    assert json.loads(message["moderator"])["items"][0]["name"] == "Dr. Who"


def test_changing_the_question_settings_in_the_admin_is_audited_and_announced(
    admin_client, django_capture_on_commit_callbacks
):
    event = make_event(title="Lymphoma board")
    form = {"title": event.title, "code": event.code, "min_cell_size": 5, "questions_enabled": "on"}
    inlines = {
        f"{p}-{k}": 0
        for p in ("disclosures", "profile_questions", "agenda", "polls")
        for k in ("TOTAL_FORMS", "INITIAL_FORMS")
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(f"/admin/polls/event/{event.id}/change/", {**form, **inlines})
    assert response.status_code == 302, response.context["adminform"].form.errors
    event.refresh_from_db()
    assert (event.questions_enabled, event.questions_moderated, event.questions_names_allowed) == (True, False, False)
    assert ModeratorAction.objects.filter(event=event, action="question_settings").count() == 1
    assert callbacks  # the screens are told


def test_each_phones_frame_is_its_own_view_of_the_shared_pieces(w):
    """The shared-text shortcut of outbound.questions_text gives every phone exactly its own list."""
    from polls.protocol import outbound
    from polls.protocol.payloads import question_payload

    qs = [ask(w, i % 4, text=f"Question {i}", ref=f"r{i}") for i in range(8)]
    for q in qs[:6]:
        moderate(w, services.question_approve, q)
    upvote(w, 1, qs[0], "a")
    upvote(w, 2, qs[0], "b")
    upvote(w, 2, qs[3], "c")
    upvote(w, 2, qs[6], "d")  # its own pending question
    message = outbound.build_questions_message(w.event.id)
    view = selectors.event_questions(event_id=w.event.id)
    for participant in w.participants:
        pid = participant.id
        expected = [question_payload(q, mine=q.author == pid, voted=pid in q.voters) for q in view.for_participant(pid)]
        assert json.loads(outbound.questions_text(message, participant_id=pid))["items"] == expected


def test_a_batch_of_upvotes_decides_each_as_if_sent_alone_in_order(w):
    """The process batches upvotes (polls/live/votewriter.py): the outcomes and the rows a batch
    leaves are those of the same requests sent one at a time, refusals included."""
    shown, other = ask(w, 0, text="Shown"), ask(w, 1, text="Still pending")
    dismissed = ask(w, 2, text="Dismissed later")
    moderate(w, services.question_approve, shown)
    moderate(w, services.question_dismiss, dismissed)
    foreign = build_world(poll=False, phones=1)
    p = [participant.id for participant in w.participants]
    requests = [
        services.UpvoteRequest(p[1], w.event.id, "a", shown.id, True),
        services.UpvoteRequest(p[1], w.event.id, "a", shown.id, True),  # resent: the same answer
        services.UpvoteRequest(p[1], w.event.id, "a", other.id, True),  # same ref, another question
        services.UpvoteRequest(p[2], w.event.id, "b", shown.id, True),
        services.UpvoteRequest(p[2], w.event.id, "c", shown.id, False),  # and withdrawn in the same batch
        services.UpvoteRequest(p[3], w.event.id, "d", other.id, True),  # someone else's pending question
        services.UpvoteRequest(p[1], w.event.id, "e", other.id, True),  # its author may
        services.UpvoteRequest(p[3], w.event.id, "f", dismissed.id, True),
        services.UpvoteRequest(foreign.participants[0].id, w.event.id, "g", shown.id, True),  # not of this event
        services.UpvoteRequest(p[3], w.event.id, "h", 10**9, True),
    ]

    def outcome(fn):
        try:
            result = fn()
        except DomainError as refusal:
            return refusal.code
        return (result.question_id, result.votes) if not isinstance(result, DomainError) else result.code

    def rows():
        return sorted(QuestionUpvote.objects.values_list("question_id", "participant_id"))

    with transaction.atomic():
        alone = [outcome(lambda r=r: services.question_upvotes([r])[0]) for r in requests]
        alone_rows = rows()
        transaction.set_rollback(True)
    batch = [outcome(lambda r=r: r) for r in services.question_upvotes(requests)]
    assert [a if isinstance(a, str) else a[0] for a in alone] == [b if isinstance(b, str) else b[0] for b in batch]
    assert alone[:3] == [(shown.id, 1), (shown.id, 1), "idempotency_conflict"]
    assert alone[5:] == ["unknown_question", (other.id, 1), "question_dismissed", "not_joined", "unknown_question"]
    assert rows() == alone_rows == sorted([(shown.id, p[1]), (other.id, p[1])])
    # In a batch every ack carries the count once the batch is written.
    assert batch[0] == batch[3] == (shown.id, 1)
