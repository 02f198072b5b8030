"""`manage.py load_demo`: the demo event CASE2, built idempotently without touching live state."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import HttpRequest

from cases.models import Case
from polls import services
from polls.models import Event, ModeratorAction, Poll, PollState, Vote

pytestmark = pytest.mark.django_db

PASSWORD = "demo-password-for-tests"
PRE_LABELS = ["Refer for CAR T", "Bispecific on a clinical trial", "Conventional doublet or triplet", "Other"]
POST_LABELS = ["Very unlikely", "Somewhat unlikely", "Unsure", "Somewhat likely", "Very likely"]


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    app_models = [m for label in ("cases", "polls", "auth") for m in apps.get_app_config(label).get_models()]
    return {m._meta.label: m.objects.count() for m in app_models}


@pytest.fixture
def demo_password(monkeypatch):
    monkeypatch.setenv("CASEBOARD_DEMO_PASSWORD", PASSWORD)
    return PASSWORD


@pytest.fixture
def no_demo_password(monkeypatch):
    monkeypatch.delenv("CASEBOARD_DEMO_PASSWORD", raising=False)


def test_second_run_creates_and_changes_nothing(demo_password):
    run_demo()
    first = row_counts()
    case_updated = Case.objects.get(title="Case Summary 2").updated_at
    output = run_demo()
    assert row_counts() == first
    assert "Rows created 0, updated 0, deleted 0." in output
    assert Case.objects.get(title="Case Summary 2").updated_at == case_updated


def test_case_holds_the_demo_patient(demo_password):
    run_demo()
    case = Case.objects.get(title="Case Summary 2")
    assert (case.disease, case.patient_age, case.patient_sex) == ("Multiple myeloma", 70, "male")
    assert case.diagnosis == "IgG-lambda multiple myeloma"
    assert (case.years_since_diagnosis, case.ecog) == (6, 1)
    assert [(s.system, s.value) for s in case.staging.all()] == [("R-ISS", "2"), ("R2-ISS", "III")]
    assert [h.text for h in case.history.all()] == ["Hypertension (well controlled)", "Peripheral neuropathy"]
    first, second = case.therapy_lines.all()
    assert (first.line_number, first.agent_list) == (1, ["bortezomib", "lenalidomide", "dexamethasone"])
    assert "VGPR" in first.best_response and "lenalidomide maintenance" in first.outcome
    assert first.transplant
    assert (second.line_number, second.agent_list) == (2, ["daratumumab", "carfilzomib", "dexamethasone"])
    assert "second relapse" in case.current_status and "second relapse" in case.clinical_question


def test_teaching_points_are_ordered_and_referenced(demo_password):
    run_demo()
    points = list(Case.objects.get(title="Case Summary 2").teaching_points.all())
    assert len(points) == 5
    assert [p.position for p in points] == [1, 2, 3, 4, 5]
    assert "IMWG" in points[0].title and "KarMMa-3" in points[1].title and "CARTITUDE-4" in points[2].title
    assert all(p.references.exists() for p in points)
    assert [r.nct for r in points[1].references.all()] == ["NCT03651128"]
    assert points[2].references.first().nct == "NCT04181827"
    for figure in ("71%", "42%", "3.36", "2.17–5.22", "26%", "5%"):
        assert figure in points[1].text
    # The source gives no CARTITUDE-4 response rates, so the demo quotes none.
    assert not re.search(r"\d+%", points[2].text)
    assert "30 days" in points[3].text
    assert "acyclovir" in points[4].text and "G-CSF" in points[4].text


def test_the_demo_follows_its_sources_where_the_recap_is_wrong_or_silent(demo_password):
    """Issue 16: the demo's statements carry their source, and the primary source wins over the recap."""
    run_demo()
    case = Case.objects.get(title="Case Summary 2")
    imwg, _, cartitude, rems, _ = case.teaching_points.all()
    # The FDA's safety communication is of 26 June 2025 (the recap says July).
    assert "26 June 2025" in rems.text and "26 June 2025" in rems.references.get().citation
    assert "July" not in rems.title
    # Talquetamab after a BCMA bispecific is the faculty's choice, not the IMWG guidance's.
    assert "faculty" in imwg.text and imwg.references.count() == 2
    # What the demo says of CARTITUDE-4 beyond the recap rests on the trial's publication.
    assert cartitude.references.filter(doi="10.1056/NEJMoa2303379", nct="NCT04181827").exists()
    # The preferred answer's rationale agrees with the first teaching point: six months or more
    # between a bispecific and CAR T does not meaningfully compromise CAR T.
    rationale = Event.objects.get(code="CASE2").polls.get(position=1).preferred_rationale
    assert "six months" in rationale and "narrows" not in rationale
    # Invented detail says so.
    for fact in case.facts.all():
        assert "illustrative" in fact.label.lower() and "illustrative" in fact.text.lower()


def test_event_has_the_case_on_its_agenda_and_its_polls(demo_password):
    run_demo()
    event = Event.objects.get(code="CASE2")
    case = Case.objects.get(title="Case Summary 2")
    assert event.status == "draft"
    assert list(event.cases.all()) == [case]
    assert list(event.profile_questions.values_list("key", flat=True)) == ["specialty", "setting", "experience"]
    pre, post, washout, ranking, barrier = event.polls.all()
    assert pre.question == "What would you recommend for this patient at second relapse?"
    assert post.question == "How likely are you to refer patients like this for CAR T at second relapse?"
    assert [o.label for o in pre.options.all()] == PRE_LABELS
    assert [o.label for o in pre.options.filter(is_preferred=True)] == ["Refer for CAR T"]
    assert [o.label for o in post.options.all()] == POST_LABELS
    assert [p.kind for p in (pre, post, washout, ranking, barrier)] == [
        "single",
        "likert",
        "numeric",
        "ranking",
        "text",
    ]
    assert (washout.numeric_min, washout.numeric_max, washout.numeric_unit) == (0, 24, "months")
    for poll in event.polls.all():
        assert (poll.case, poll.state, poll.results_visible) == (case, "draft", False)
    assert [f.hidden_until_revealed for f in case.facts.all()] == [True]


def test_moderator_can_log_in_with_the_configured_password(demo_password, client):
    output = run_demo()
    user = get_user_model().objects.get(username="moderator")
    assert user.is_staff and not user.is_superuser
    assert Event.objects.get(code="CASE2").moderators.filter(pk=user.pk).exists()
    assert user.has_perms(["cases.change_case", "cases.add_teachingpoint", "polls.change_event", "polls.add_poll"])
    assert not user.has_perm("polls.change_moderatoraction")
    assert PASSWORD not in output
    assert client.login(request=HttpRequest(), username="moderator", password=PASSWORD)  # axes needs a request


def test_output_lists_the_three_screens_and_the_login(demo_password):
    output = run_demo()
    token = Event.objects.get(code="CASE2").presenter_token
    assert "/e/CASE2/" in output
    assert f"/e/CASE2/present/?key={token}" in output
    assert "/e/CASE2/moderate/" in output
    assert "/accounts/login/" in output and "moderator" in output


def test_generated_password_is_shown_once_and_then_kept(no_demo_password, client):
    first = run_demo()
    password = re.search(r"Password \(shown once\): (\S+)", first).group(1)
    second = run_demo()
    assert "Password (shown once)" not in second
    assert "unchanged" in second
    assert client.login(request=HttpRequest(), username="moderator", password=password)


def test_rerun_keeps_votes_and_live_state(demo_password):
    run_demo()
    event = Event.objects.get(code="CASE2")
    pre = event.polls.get(position=1)
    user = get_user_model().objects.get(username="moderator")
    services.poll_open(event_id=event.id, poll_id=pre.id, user=user)
    participant = services.participant_join(event=event)
    choice = pre.options.get(label="Refer for CAR T").id
    services.vote_cast(participant_id=participant.id, event_id=event.id, poll_id=pre.id, option_ids=(choice,), ref="r1")
    token = Event.objects.get(pk=event.pk).presenter_token

    output = run_demo()

    event.refresh_from_db()
    pre.refresh_from_db()
    assert "Kept event CASE2" in output
    assert (event.status, event.current_poll_id, event.presenter_token) == ("live", pre.id, token)
    assert pre.state == PollState.OPEN
    assert Vote.objects.filter(poll=pre).count() == 1
    assert ModeratorAction.objects.filter(event=event, action="open_poll").exists()


def test_rerun_restores_the_case_content(demo_password):
    run_demo()
    case = Case.objects.get(title="Case Summary 2")
    case.ecog = 3
    case.save()
    case.history.first().delete()
    run_demo()
    case.refresh_from_db()
    assert case.ecog == 1
    assert case.history.count() == 2


def test_reset_rebuilds_the_event_without_its_votes(demo_password):
    run_demo()
    event = Event.objects.get(code="CASE2")
    pre = event.polls.get(position=1)
    services.poll_open(event_id=event.id, poll_id=pre.id, user=None)
    participant = services.participant_join(event=event)
    choice = pre.options.first().id
    services.vote_cast(participant_id=participant.id, event_id=event.id, poll_id=pre.id, option_ids=(choice,), ref="r1")

    output = run_demo("--reset")

    assert "Created event CASE2" in output
    rebuilt = Event.objects.get(code="CASE2")
    assert rebuilt.pk != event.pk and rebuilt.status == "draft"
    assert not Vote.objects.exists()
    assert set(Poll.objects.filter(event=rebuilt).values_list("state", flat=True)) == {"draft"}
    assert rebuilt.moderators.filter(username="moderator").exists()
    assert Case.objects.filter(title="Case Summary 2").count() == 1


def test_the_demo_goes_live_past_the_identifier_guard(demo_password):
    """Its only flagged passages are dated sources, acknowledged by the loader; nothing else is flagged."""
    from cases.models import IdentifierAcknowledgement
    from polls.selectors import event_unacknowledged_identifiers

    run_demo()
    assert event_unacknowledged_identifiers(Event.objects.get(code="CASE2").id) == []
    assert {a.where for a in IdentifierAcknowledgement.objects.all()} == {"Teaching point 4: text"}
    run_demo()  # loading again acknowledges nothing twice
    assert IdentifierAcknowledgement.objects.count() == 1


def test_the_demo_goes_live_on_stored_scans_without_loading_the_identifier_guard(demo_password, monkeypatch):
    """The loader reads the demo's texts once; a live server starting the event reads the stored
    scans and never loads Presidio (seconds of CPU and about 75 MB per process)."""
    from cases import identifiers

    run_demo("--reset")

    def recognizers_loaded(_text):
        raise AssertionError("the identifier guard read a text at go-live")

    monkeypatch.setattr(identifiers, "find_identifiers", recognizers_loaded)
    event = Event.objects.get(code="CASE2")
    event.status = "draft"
    event.save(update_fields=["status"])
    moderator = get_user_model().objects.get(username="moderator")
    assert services.event_start(event_id=event.id, user=moderator).status == "live"
