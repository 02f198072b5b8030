"""Panelists by invitation: the console creates and withdraws named links; a link makes its
browser that panelist (no account); forged, foreign and withdrawn links get nothing."""

from __future__ import annotations

import pytest
from django.core import signing
from django.test import Client

from polls import panel_links, selectors, services
from polls.errors import DomainError
from polls.models import ModeratorAction, PanelistInvitation, Participant
from tests.factories import build_world, make_moderator

pytestmark = pytest.mark.django_db


def moderator_client(w) -> Client:
    client = Client()
    client.force_login(w.moderator)
    return client


def create_link(w, name: str = "Dr Ada Panel") -> PanelistInvitation:
    response = moderator_client(w).post(f"/e/{w.code}/panelists/", {"name": name})
    assert response.status_code == 302
    return PanelistInvitation.objects.filter(event=w.event).latest("id")


def link_path(invitation: PanelistInvitation) -> str:
    return f"/e/{invitation.event.code}/panel/{panel_links.invitation_token(invitation)}/"


def test_the_console_creates_a_link_lists_it_and_audits_it():
    w = build_world()
    invitation = create_link(w, "  Dr   Ada Panel ")
    assert invitation.display_name == "Dr Ada Panel" and invitation.created_by == w.moderator
    page = moderator_client(w).get(f"/e/{w.code}/moderate/").content.decode()
    assert "Dr Ada Panel" in page and link_path(invitation) in page
    action = ModeratorAction.objects.get(event=w.event, action="invite_panelist")
    # the audit names the invitation, not the person
    assert action.target == f"invitation:{invitation.pk}" and "Ada" not in action.target


def test_an_empty_or_overlong_name_is_refused_with_a_message_and_nothing_saved():
    w = build_world()
    client = moderator_client(w)
    for name in ("   ", "x" * 81):
        client.post(f"/e/{w.code}/panelists/", {"name": name})
        page = client.get(f"/e/{w.code}/moderate/").content.decode()
        assert 'data-testid="panelist-error"' in page
    assert not PanelistInvitation.objects.exists()


def test_opening_the_link_makes_the_browser_that_panelist_without_an_account():
    w = build_world()
    invitation = create_link(w)
    browser = Client()
    response = browser.get(link_path(invitation))
    assert response.status_code == 302 and response.url == f"/e/{w.code}/panel/"
    page = browser.get(f"/e/{w.code}/panel/")
    assert page.status_code == 200 and b'data-testid="panel-banner"' in page.content
    participant = Participant.objects.get(invitation=invitation)
    assert participant.is_panelist and participant.user is None and participant.event_id == w.event.id
    # a second device with the same link is the same panelist, not a second one
    Client().get(link_path(invitation))
    assert Participant.objects.filter(event=w.event, is_panelist=True).count() == 1


def test_opening_the_link_gives_the_browser_a_new_session_key():
    w = build_world()
    invitation = create_link(w)
    browser = Client()
    browser.get(f"/e/{w.code}/")  # a session exists before the link is opened
    before = browser.cookies["sessionid"].value
    browser.get(link_path(invitation))
    assert browser.cookies["sessionid"].value != before


@pytest.mark.parametrize(
    "forge",
    [
        lambda inv: "not-a-token",
        lambda inv: panel_links.invitation_token(inv)[:-2] + "xx",  # signature altered
        # the right payload signed with another key
        lambda inv: signing.dumps([inv.event_id, inv.pk, inv.nonce], salt=panel_links.SALT, key="attacker"),
        # the right signature over another salt (another kind of signed value of this site)
        lambda inv: signing.dumps([inv.event_id, inv.pk, inv.nonce]),
        # a genuine signature over a guessed nonce
        lambda inv: signing.dumps([inv.event_id, inv.pk, "0" * 32], salt=panel_links.SALT),
        lambda inv: "a" * 5000,
    ],
)
def test_a_forged_link_gets_nothing(forge):
    w = build_world()
    invitation = create_link(w)
    browser = Client()
    response = browser.get(f"/e/{w.code}/panel/{forge(invitation)}/")
    assert response.status_code == 403 and b'data-testid="panel-link-invalid"' in response.content
    assert not Participant.objects.filter(invitation=invitation).exists()
    assert browser.get(f"/e/{w.code}/panel/").status_code == 302  # to the login page


def test_another_events_link_does_not_open_this_events_panel():
    w, other = build_world(), build_world()
    theirs = create_link(other)
    token = panel_links.invitation_token(theirs)
    response = Client().get(f"/e/{w.code}/panel/{token}/")
    assert response.status_code == 403
    assert not Participant.objects.filter(event=w.event, is_panelist=True).exists()


def test_a_withdrawn_link_ends_the_panel_and_cannot_be_used_again():
    w = build_world()
    invitation = create_link(w)
    browser = Client()
    browser.get(link_path(invitation))
    response = moderator_client(w).post(f"/e/{w.code}/panelists/", {"revoke": str(invitation.pk)})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert ModeratorAction.objects.filter(event=w.event, action="revoke_panelist").count() == 1
    # the browser that opened it loses the panel at once
    page = browser.get(f"/e/{w.code}/panel/")
    assert page.status_code == 403 and b"withdrew" in page.content
    # and the link itself no longer works, in this browser or another
    assert browser.get(link_path(invitation)).status_code == 403
    assert Client().get(link_path(invitation)).status_code == 403
    console = moderator_client(w).get(f"/e/{w.code}/moderate/").content.decode()
    assert 'data-testid="panelist-revoked"' in console and link_path(invitation) not in console


def test_only_the_events_moderators_create_or_withdraw_links():
    w, other = build_world(), build_world()
    invitation = create_link(w)
    stranger = Client()
    stranger.force_login(other.moderator)
    assert stranger.post(f"/e/{w.code}/panelists/", {"name": "Mallory"}).status_code == 404
    assert stranger.post(f"/e/{w.code}/panelists/", {"revoke": str(invitation.pk)}).status_code == 404
    assert Client().post(f"/e/{w.code}/panelists/", {"name": "Mallory"}).status_code == 302  # to login
    # a moderator of another event cannot withdraw this event's link through his own event
    stranger.post(f"/e/{other.code}/panelists/", {"revoke": str(invitation.pk)})
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert PanelistInvitation.objects.filter(display_name="Mallory").count() == 0
    with pytest.raises(DomainError) as refused:
        services.panelist_invitation_revoke(event_id=other.event.id, invitation_id=invitation.pk, user=other.moderator)
    assert refused.value.code == "unknown_invitation"
    with pytest.raises(DomainError):
        services.panelist_invitation_create(event_id=w.event.id, display_name="X", user=make_moderator())


def test_a_phone_session_is_not_a_panelist_and_its_votes_stay_the_audiences():
    w = build_world(phones=1)
    create_link(w)
    phone = Client()
    phone.cookies["sessionid"] = w.phone_keys[0]
    assert phone.get(f"/e/{w.code}/panel/").status_code == 302  # to login: no panel for a phone
    # a phone cannot make itself an invited panelist by writing the session key's shape itself:
    # the session is server-side, and the invitation it would name must stand and have a panelist
    assert (
        selectors.invited_panelist_id(
            session={"caseboard_panel_invitations": {str(w.event.id): 999}}, event_id=w.event.id
        )
        is None
    )
    assert not Participant.objects.get(pk=w.participants[0].pk).is_panelist


def test_the_logged_in_panelist_path_still_works():
    w = build_world(panelists=1)
    client = Client()
    client.force_login(w.panelists[0])
    assert client.get(f"/e/{w.code}/panel/").status_code == 200


def test_an_event_with_an_invited_panelists_ballots_can_still_be_deleted():
    w = build_world(opened=True)
    invitation = create_link(w)
    participant = services.invited_panelist_participant(invitation=invitation)
    services.vote_cast(
        participant_id=participant.pk, event_id=w.event.id, poll_id=w.poll.id, ref="r1", option_ids=(w.options[0],)
    )
    w.event.delete()
    assert not PanelistInvitation.objects.exists() and not Participant.objects.exists()
