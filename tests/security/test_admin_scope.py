"""One moderator took over another's event through the admin. A user now sees and changes only
what belongs to events he moderates; who moderates is decided by the owner; keys rotate."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from cases.models import Case
from polls import demo, services
from polls.models import Event, ModeratorAction, Participant, Poll, Vote
from tests.factories import make_case, make_event, make_moderator, make_participant, make_poll, option_ids

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "demo-password-for-tests"


@pytest.fixture(autouse=True)
def _static(settings):
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture
def world():
    """CASE2 moderated by the demo organiser; event B moderated by someone else, with ballots."""
    case2 = demo.load_demo(password=DEMO_PASSWORD).event
    attacker = case2.moderators.get(username="moderator")
    victim = make_moderator("victim", is_staff=True)
    secret_case = make_case(title="Case of event B")
    event_b = make_event(moderators=[victim], cases=[secret_case], code="BBBB7", title="Event B", owner=victim)
    poll_b = make_poll(event_b, secret_case)
    services.poll_open(event_id=event_b.id, poll_id=poll_b.id, user=victim)
    participant = make_participant(event_b)
    services.vote_cast(
        participant_id=participant.id,
        event_id=event_b.id,
        poll_id=poll_b.id,
        option_ids=(option_ids(poll_b)[0],),
        ref="b1",
    )
    return case2, attacker, victim, event_b, poll_b


def admin_url(model, action="changelist", *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def test_another_events_records_are_not_listed_or_opened(client, world):
    case2, attacker, _, event_b, poll_b = world
    client.force_login(attacker)
    for model in (Event, Poll, Vote, ModeratorAction, Participant, Case):
        page = client.get(admin_url(model))
        assert page.status_code == 200, model
        text = page.content.decode()
        assert "BBBB7" not in text and "Event B" not in text and "Case of event B" not in text, model
    for obj in (event_b, poll_b, Vote.objects.get(poll=poll_b), Case.objects.get(title="Case of event B")):
        page = client.get(admin_url(type(obj), "change", obj.pk), follow=True)
        assert event_b.presenter_token not in page.content.decode()
        assert page.redirect_chain, f"{type(obj).__name__} of event B opened"  # "does not exist" and back


def test_another_events_presenter_key_appears_nowhere(client, world):
    _, attacker, _, event_b, _ = world
    client.force_login(attacker)
    for model in (Event, Poll, ModeratorAction):
        assert event_b.presenter_token not in client.get(admin_url(model)).content.decode()


def test_a_moderator_who_does_not_own_the_event_cannot_change_its_moderators(client, world):
    case2, attacker, victim, _, _ = world
    client.force_login(attacker)
    form = client.get(admin_url(Event, "change", case2.pk)).context["adminform"].form
    assert "moderators" not in form.fields  # shown, not editable


def test_the_owner_changes_moderators_through_the_audited_service(client, world):
    _, _, victim, event_b, _ = world
    helper = make_moderator("helper", is_staff=True)
    services.event_moderators_set(event_id=event_b.id, moderator_ids={victim.pk, helper.pk}, user=victim)
    assert set(event_b.moderators.values_list("username", flat=True)) == {"victim", "helper"}
    entry = ModeratorAction.objects.filter(event=event_b, action="set_moderators").get()
    assert entry.user == victim and entry.target == f"added:{helper.pk}"


def test_nobody_else_may_change_moderators_even_with_the_admin_permission(world):
    case2, attacker, _, event_b, _ = world
    attacker.user_permissions.add(*Permission.objects.filter(codename="change_event"))
    from polls.errors import DomainError

    with pytest.raises(DomainError):
        services.event_moderators_set(event_id=event_b.id, moderator_ids={attacker.pk}, user=attacker)
    assert not event_b.moderators.filter(pk=attacker.pk).exists()


def test_a_poll_cannot_be_moved_into_another_event_or_case(client, world):
    case2, attacker, _, event_b, _ = world
    client.force_login(attacker)
    form = client.get(admin_url(Poll, "add")).context["adminform"].form
    assert event_b not in form.fields["event"].queryset
    assert not form.fields["case"].queryset.filter(title="Case of event B").exists()


def test_the_creator_of_an_event_owns_and_moderates_it(client, world):
    _, attacker, _, _, _ = world
    client.force_login(attacker)
    response = client.post(
        admin_url(Event, "add"),
        {
            "title": "New roundtable",
            "code": "NEWEV7",
            "moderators": [],
            "min_cell_size": 5,
            **{f"agenda-{k}": v for k, v in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()},
            **{f"polls-{k}": v for k, v in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()},
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(code="NEWEV7")
    assert event.owner == attacker and list(event.moderators.all()) == [attacker]


def test_rotating_the_presenter_key_ends_the_old_links_sessions(client, world):
    case2, attacker, _, _, _ = world
    old = case2.presenter_token
    assert client.get(f"/e/CASE2/present/?key={old}").status_code == 302
    assert client.get("/e/CASE2/present/").status_code == 200
    services.presenter_key_rotate(event_id=case2.id, user=attacker)
    case2.refresh_from_db()
    assert case2.presenter_token != old
    assert client.get("/e/CASE2/present/").status_code == 302  # to the login page: the old key is gone
    assert ModeratorAction.objects.filter(event=case2, action="rotate_presenter_key").exists()
