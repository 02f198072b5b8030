"""Nothing in a report or export identifies a participant, and no cell runs as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from polls import services
from polls.ballots import Ballot
from polls.models import PollKind
from polls.reports import build, files, tables
from tests.factories import build_world, make_case, make_event, make_participant, option_ids

pytestmark = pytest.mark.django_db

DANGEROUS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def _vote(world, participant, poll, ref, **ballot):
    services.vote_cast(
        participant_id=participant.id, event_id=world.event.id, poll_id=poll.id, ref=ref, ballot=Ballot(**ballot)
    )


@pytest.mark.parametrize("dangerous", DANGEROUS)
def test_no_xlsx_cell_runs_as_a_formula(dangerous, client):
    world = build_world(case={"title": dangerous}, question=dangerous, labels=(dangerous, "safe"), phones=2)
    services.poll_open(event_id=world.event.id, poll_id=world.poll.id, user=world.moderator)
    text_poll = world.add_poll(kind=PollKind.TEXT, labels=(), question="Why?", opened=True)
    _vote(world, world.participants[0], world.poll, "a", options=(world.options[0],))
    _vote(world, world.participants[1], text_poll, "b", text=dangerous.strip() or "x")
    answer = text_poll.votes.get()
    services.answer_moderate(event_id=world.event.id, answer_id=answer.id, approve=True, user=world.moderator)
    client.force_login(world.moderator)
    book = load_workbook(io.BytesIO(client.get(reverse("event-export-xlsx", kwargs={"code": world.code})).content))
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                values.append(cell.value)
    texts = [v for v in values if isinstance(v, str)]
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in texts)
    # Without lxml, XML keeps no bare carriage return ("\rx" reads back as "\nx"): behind the quote either way.
    assert {"'" + dangerous, "'" + dangerous.replace("\r", "\n")} & set(texts)
    rows = list(
        csv.reader(io.StringIO(client.get(reverse("event-export", kwargs={"code": world.code})).content.decode()))
    )
    cells = [c for row in rows[1:] for c in row]
    assert dangerous not in cells and "'" + dangerous in cells


def test_ballot_rows_carry_an_event_scoped_pseudonym_never_a_session_or_id(client):
    world = build_world(opened=True, phones=3)
    second = world.add_poll(opened=True, question="Again?")
    for n, participant in enumerate(world.participants):
        _vote(world, participant, world.poll, f"a{n}", options=(world.options[0],))
        _vote(world, participant, second, f"b{n}", options=(option_ids(second)[1],))
    client.force_login(world.moderator)
    text = client.get(reverse("event-export", kwargs={"code": world.code})).content.decode()
    ballots = [r for r in csv.DictReader(io.StringIO(text)) if r["record"] == "ballot"]
    assert len(ballots) == 6
    by_poll = {}
    for row in ballots:
        by_poll.setdefault(row["poll_id"], set()).add(row["participant"])
    assert by_poll[str(world.poll.id)] == by_poll[str(second.id)]  # the same person across polls
    for key in world.phone_keys:
        assert key not in text
    assert settings.SESSION_COOKIE_NAME not in text
    other = make_event(cases=[make_case()])
    participant = world.participants[0]
    assert tables.pseudonym(world.event, participant.id) != tables.pseudonym(other, participant.id)
    assert str(participant.id) not in {row["participant"] for row in ballots}


def _profiled_world():
    world = build_world(profile_fields=["specialty", "setting"], phones=0)
    people = []
    for n in range(6):
        participant = make_participant(world.event)
        specialty = "Pathology" if n == 5 else "Hematology"
        services.profile_set(
            participant_id=participant.id,
            event_id=world.event.id,
            answers={"specialty": specialty, "setting": "Community practice"},
        )
        people.append(participant)
    services.poll_open(event_id=world.event.id, poll_id=world.poll.id, user=world.moderator)
    for n, participant in enumerate(people):
        _vote(world, participant, world.poll, f"p{n}", options=(world.options[n % 2],))
    services.poll_close(event_id=world.event.id, poll_id=world.poll.id, user=world.moderator)
    return world


def test_profile_answers_only_on_request_and_never_for_a_small_group(client):
    world = _profiled_world()
    client.force_login(world.moderator)
    url = reverse("event-export", kwargs={"code": world.code})
    plain = client.get(url).content.decode()
    assert "profile_specialty" not in plain and "Hematology" not in plain.split("\n")[0]
    ballots = [r for r in csv.DictReader(io.StringIO(plain)) if r["record"] == "ballot"]
    assert ballots and "profile_specialty" not in ballots[0]
    asked = client.get(url + "?profile=1").content.decode()
    rows = [r for r in csv.DictReader(io.StringIO(asked)) if r["record"] == "ballot"]
    assert sorted(r["profile_specialty"] for r in rows) == ["Hematology"] * 5 + ["suppressed"]
    assert "Pathology" not in asked  # one pathologist: under the event's minimum of 5, never shown
    report = client.get(reverse("event-report", kwargs={"code": world.code})).content.decode()
    assert 'data-testid="profile-warning"' in report
    workbook = files.event_xlsx(build.event_report(event=world.event), with_profile=True)
    summary = load_workbook(io.BytesIO(workbook), read_only=True)["Summary"]
    assert any(row[0] == "Warning" for row in summary.iter_rows(values_only=True))


def test_free_text_reaches_no_file_until_a_moderator_approves_it(client):
    world = build_world(kind=PollKind.TEXT, labels=(), opened=True, phones=3)
    for n, (participant, text) in enumerate(zip(world.participants, ["Shown", "Hidden", "Unread"], strict=True)):
        _vote(world, participant, world.poll, f"t{n}", text=f"{text} answer")
    votes = {v.value_text: v for v in world.poll.votes.all()}
    event_id, user = world.event.id, world.moderator
    services.answer_moderate(event_id=event_id, answer_id=votes["Shown answer"].id, approve=True, user=user)
    services.answer_moderate(event_id=event_id, answer_id=votes["Hidden answer"].id, approve=False, user=user)
    client.force_login(world.moderator)
    for name in ("event-report", "event-export", "event-recap-md"):
        body = client.get(reverse(name, kwargs={"code": world.code})).content.decode()
        assert "Hidden answer" not in body and "Unread answer" not in body, name
    report = client.get(reverse("event-report", kwargs={"code": world.code})).content.decode()
    assert "Shown answer" in report
    recap = client.get(reverse("event-recap-md", kwargs={"code": world.code})).content.decode()
    assert "Shown answer" not in recap  # the recap may go public: it quotes no participant


def test_a_panel_under_the_minimum_is_only_a_size_everywhere(client):
    world = build_world(opened=True, phones=2, panelists=2)
    for n, participant in enumerate(world.participants):
        _vote(world, participant, world.poll, f"a{n}", options=(world.options[0],))
    from polls.services import panelist_participant

    for n, faculty in enumerate(world.panelists):
        panelist = panelist_participant(event=world.event, user=faculty)
        _vote(world, panelist, world.poll, f"f{n}", options=(world.options[1],))
    client.force_login(world.moderator)
    rows = list(
        csv.DictReader(io.StringIO(client.get(reverse("event-export", kwargs={"code": world.code})).content.decode()))
    )
    assert all(r["panel_count"] == "" for r in rows if r["record"] == "option")
    assert any(r["metric"] == "panel_suppressed" for r in rows)
    assert len([r for r in rows if r["record"] == "ballot"]) == 2  # the panel's ballots are not rows
    report = client.get(reverse("event-report", kwargs={"code": world.code})).content.decode()
    assert "their votes are not shown" in report


def test_making_the_files_logs_no_case_text_and_no_participant_input(client, caplog):
    world = build_world(
        case={"diagnosis": "Secret-diagnosis-XYZ"}, kind=PollKind.TEXT, labels=(), opened=True, phones=1
    )
    _vote(world, world.participants[0], world.poll, "t", text="Participant-words-QRS")
    vote = world.poll.votes.get()
    services.answer_moderate(event_id=world.event.id, answer_id=vote.id, approve=True, user=world.moderator)
    client.force_login(world.moderator)
    caplog.set_level("INFO")
    for name in ("event-report", "event-report-pdf", "event-export", "event-export-xlsx", "event-recap-pdf"):
        assert client.get(reverse(name, kwargs={"code": world.code})).status_code == 200
    assert "Secret-diagnosis-XYZ" not in caplog.text and "Participant-words-QRS" not in caplog.text


def test_the_report_lists_the_questions_the_room_saw_without_names(client):
    world = build_world(phones=3)
    world.event.questions_names_allowed = True
    world.event.save()
    event_id, (first, second, third) = world.event.id, world.participants
    shown = services.question_ask(
        participant_id=first.id, event_id=event_id, ref="q1", text="Outpatient CAR T?", name="Dr Who"
    )
    services.question_ask(participant_id=second.id, event_id=event_id, ref="q2", text="Never approved")
    services.question_approve(event_id=event_id, question_id=shown.id, user=world.moderator)
    services.question_upvote(participant_id=third.id, event_id=event_id, question_id=shown.id, ref="u1", up=True)
    report = build.event_report(event=world.event)
    assert [(q.text, q.votes) for q in report.questions] == [("Outpatient CAR T?", 1)]
    client.force_login(world.moderator)
    page = client.get(reverse("event-report", kwargs={"code": world.code})).content.decode()
    assert "Outpatient CAR T?" in page and "Never approved" not in page and "Dr Who" not in page
