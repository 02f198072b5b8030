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
