"""Credit claims (issue 15): kept apart from the ballots, in the schema and in every reader."""

from __future__ import annotations

import subprocess
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from polls import services
from polls.models import CreditClaim, EventStatus
from polls.reports import build
from tests.factories import build_world

pytestmark = pytest.mark.django_db

CLAIM = {"name": "Dr A. Example", "email": "a@example.org", "profession": "physician", "hours": "1.5"}


@pytest.fixture
def ended():
    world = build_world(phones=2)
    event = world.event
    event.credit_hours, event.credit_statement = Decimal("2.00"), "Provider statement for tests."
    event.status = EventStatus.ENDED
    event.save()
    return world


def test_no_table_can_join_a_claim_to_a_participant_or_an_answer():
    """The claim's only relation is its event; no model points at a claim."""
    relations = {f.related_model for f in CreditClaim._meta.get_fields() if f.is_relation}
    assert {model.__name__ for model in relations} == {"Event"}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model is CreditClaim:
                pytest.fail(f"{model.__name__}.{field.name} points at a credit claim")
    assert {f.name for f in CreditClaim._meta.concrete_fields} == {
        "id", "event", "name", "email", "profession", "hours", "certificate_token", "claimed_at",
    }  # fmt: skip


def test_a_participant_claims_and_downloads_a_certificate(client, ended, tmp_path):
    code = ended.event.code
    response = client.post(reverse("credit-claim", args=[code]), CLAIM)
    claim = CreditClaim.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/credit/{claim.certificate_token}/")
    assert client.get(response["Location"]).status_code == 200
    pdf = client.get(reverse("credit-certificate-pdf", args=[code, claim.certificate_token]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert "Dr A. Example" in text and "1.50 hours" in text and "Provider statement for tests." in text
    assert build.event_report(event=ended.event).credit_claims == 1  # counted, never joined


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"hours": "3"}, "Claim between 0.25 and 2.00 hours"),
        ({"hours": "0"}, "greater than or equal to 0.25"),
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"profession": "astronaut"}, "Select a valid choice"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_a_bad_claim_says_why_and_saves_nothing(client, ended, change, expected):
    response = client.post(reverse("credit-claim", args=[ended.event.code]), {**CLAIM, **change})
    assert response.status_code == 400 and expected in response.content.decode()
    assert not CreditClaim.objects.exists()


def test_no_claim_before_the_end_or_where_no_credit_is_offered(client, ended):
    event = ended.event
    event.status = EventStatus.LIVE
    event.save()
    page = client.get(reverse("credit-claim", args=[event.code]))
    assert "once the event has ended" in page.content.decode()
    assert client.post(reverse("credit-claim", args=[event.code]), CLAIM).status_code == 400
    event.credit_hours = None
    event.save()
    assert client.get(reverse("credit-claim", args=[event.code])).status_code == 404
    assert not CreditClaim.objects.exists()


def test_a_certificate_is_reached_only_by_its_own_token(client, ended):
    services.credit_claim(
        event_id=ended.event.id, name="X", email="x@example.org", profession="nurse", hours=Decimal(1)
    )
    assert client.get(reverse("credit-certificate", args=[ended.event.code, "guessed-token"])).status_code == 404


def test_the_claim_page_is_at_claim_and_the_old_credit_address_still_works(client, ended):
    code = ended.event.code
    page = client.get(f"/e/{code}/claim/")
    assert page.status_code == 200 and "Claim your credit" in page.content.decode()
    response = client.post(f"/e/{code}/claim/", CLAIM)
    claim = CreditClaim.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/e/{code}/credit/{claim.certificate_token}/"
    assert client.get(f"/e/{code}/credit/").status_code == 200


@pytest.mark.parametrize("hours", ["2.01", "99999", "-1", "0", "abc", "1.333", "NaN", "Infinity"])
def test_absurd_hours_are_refused_with_a_reason(client, ended, hours):
    response = client.post(f"/e/{ended.event.code}/claim/", {**CLAIM, "hours": hours})
    text = response.content.decode()
    assert response.status_code == 400 and 'role="alert"' in text
    assert any(
        reason in text
        for reason in (
            "Claim between 0.25 and 2.00 hours",
            "greater than or equal to 0.25",
            "Enter a number",
            "2 decimal places",
        )
    )
    assert not CreditClaim.objects.exists()


def test_a_second_claim_with_the_same_email_is_refused_even_from_another_browser(client, ended, django_user_model):
    from django.test import Client

    code = ended.event.code
    assert client.post(f"/e/{code}/claim/", CLAIM).status_code == 302
    other_browser = Client()
    again = other_browser.post(f"/e/{code}/claim/", {**CLAIM, "email": "A@Example.ORG", "name": "Someone else"})
    assert again.status_code == 409 and "already been claimed with this email address" in again.content.decode()
    assert CreditClaim.objects.count() == 1 and CreditClaim.objects.get().name == "Dr A. Example"


def test_a_second_claim_from_the_same_browser_is_refused_whatever_the_email(client, ended):
    code = ended.event.code
    assert client.post(f"/e/{code}/claim/", CLAIM).status_code == 302
    page = client.get(f"/e/{code}/claim/")
    assert "already been claimed from this browser" in page.content.decode() and "<form" not in page.content.decode()
    again = client.post(f"/e/{code}/claim/", {**CLAIM, "email": "b@example.org"})
    assert again.status_code == 409 and "already been claimed from this browser" in again.content.decode()
    assert CreditClaim.objects.count() == 1


def test_the_browser_mark_is_a_signed_cookie_not_the_session_and_not_on_any_row(client, ended):
    """The mark lives only in the browser: the session (which holds the participant's id) and the
    claim row carry nothing that could join them; a forged mark does not block anyone else either."""
    from polls.creditviews import claimed_cookie

    code = ended.event.code
    client.get(f"/e/{code}/")  # a joined participant's session
    session_before = dict(client.session)
    response = client.post(f"/e/{code}/claim/", CLAIM)
    cookie = response.cookies[claimed_cookie(ended.event)]
    assert cookie["httponly"] and cookie["path"] == f"/e/{code}/"
    assert dict(client.session) == session_before
    claim = CreditClaim.objects.get()
    assert cookie.value.split(":")[0] == str(ended.event.pk)
    assert claim.certificate_token not in cookie.value
    from django.test import Client

    forged = Client()
    forged.cookies[claimed_cookie(ended.event)] = f"{ended.event.pk}:not-signed"
    assert forged.post(f"/e/{code}/claim/", {**CLAIM, "email": "c@example.org"}).status_code == 302


def test_the_database_itself_refuses_a_second_claim_with_the_same_address(ended):
    from django.db import IntegrityError, transaction

    CreditClaim.objects.create(event=ended.event, name="A", email="a@example.org", profession="nurse", hours=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditClaim.objects.create(event=ended.event, name="B", email="A@EXAMPLE.org", profession="nurse", hours=1)


def test_the_outcomes_report_counts_claims_by_profession_and_the_claims_csv_is_for_moderators(client, ended):
    import csv
    import io

    from tests.factories import make_moderator

    code = ended.event.code
    for email, profession, hours in (
        ("a@x.org", "physician", "2"),
        ("b@x.org", "nurse", "1.5"),
        ("c@x.org", "nurse", "1"),
    ):
        from django.test import Client

        assert (
            Client()
            .post(f"/e/{code}/claim/", {**CLAIM, "email": email, "profession": profession, "hours": hours})
            .status_code
            == 302
        )
    url = reverse("event-claims-csv", args=[code])
    assert client.get(url).status_code == 302  # anonymous: log in
    client.force_login(make_moderator())
    assert client.get(url).status_code == 403  # not this event's moderator
    client.force_login(ended.moderator)
    rows = list(csv.DictReader(io.StringIO(client.get(url).content.decode())))
    assert [(r["email"], r["profession"], r["hours"]) for r in rows] == [
        ("a@x.org", "Physician", "2.00"), ("b@x.org", "Nurse or nurse practitioner", "1.50"),
        ("c@x.org", "Nurse or nurse practitioner", "1.00"),
    ]  # fmt: skip
    assert set(rows[0]) == {"claimed_at", "name", "email", "profession", "hours"}  # nothing of the room
    page = " ".join(client.get(reverse("event-outcomes", args=[code])).content.decode().split())
    assert '<td>Physician</td><td class="num">1</td>' in page
    assert '<td>Nurse or nurse practitioner</td><td class="num">2</td>' in page
    assert "4.50 hours claimed in all." in page


def test_a_code_typed_in_lower_case_leads_to_the_claim_page_where_the_mark_is_read(client, ended):
    code = ended.event.code
    assert client.post(f"/e/{code}/claim/", CLAIM).status_code == 302
    typed = client.get(f"/e/{code.lower()}/claim/")
    assert typed.status_code == 302 and typed["Location"] == f"/e/{code}/claim/"
    assert "already been claimed from this browser" in client.get(typed["Location"]).content.decode()
