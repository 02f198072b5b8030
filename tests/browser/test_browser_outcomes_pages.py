"""The pages issue 15 adds for participants (the follow-up sign-up, the mailed survey, the claim)
and for moderators (the outcomes report) pass axe on the size they are used at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.live_moderator import shell
from tests.browser.pages import CODE, DESKTOP, PHONE
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser

# A follow-up for CASE2 with one invited address, its link printed; undone after the test.
PREPARE = """
from django.utils import timezone
from polls.models import Event, FollowUpContact, PollPurpose
from polls.services.followups import answer_token
event = Event.objects.get(code="CASE2")
Event.objects.filter(pk=event.pk).update(followup_days=30, credit_hours=2)
event.polls.filter(kind="text").update(purpose=PollPurpose.INTENT, state="closed")
contact = FollowUpContact.objects.create(event=event, email="axe@example.org", invited_at=timezone.now())
Event.objects.filter(pk=event.pk).update(status="ended", ended_at=timezone.now() - timezone.timedelta(days=31))
print(answer_token(contact))
"""
UNDO = """
from polls.models import Event, FollowUpContact
FollowUpContact.objects.filter(event__code="CASE2").delete()
Event.objects.filter(code="CASE2").update(followup_days=None, credit_hours=None)
print("undone")
"""


@pytest.fixture
def followup(demo):
    token = shell(demo, PREPARE)
    yield token
    shell(demo, UNDO)
    demo.reset_demo()  # the event was ended and its poll purposes changed: the next test gets the pristine demo


def test_the_follow_up_and_claim_pages_pass_axe_on_a_phone(followup, contexts):
    phone = contexts(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"/f/{followup}/")
    expect(phone.get_by_role("heading", name="Did you change your practice?")).to_be_visible()
    assert_no_violations(phone, "follow-up survey")
    phone.get_by_role("button", name="Send my answers").click()
    expect(phone.get_by_test_id("followup-error")).to_contain_text("Answer at least one question")
    assert_no_violations(phone, "follow-up survey with an error")
    phone.goto(f"/f/{followup}x/")
    expect(phone.get_by_test_id("followup-refused")).to_be_visible()
    assert_no_violations(phone, "refused follow-up link")
    phone.goto(f"/e/{CODE}/claim/")
    phone.get_by_role("button", name="Claim and get my certificate").click()
    assert_no_violations(phone, "claim with errors")


def test_the_outcomes_report_passes_axe_and_its_stylesheet_is_allowed(followup, contexts, moderator_storage):
    """The report pages inline their stylesheet (for the PDF): the policy allows it by its hash,
    so the page is styled in a browser too (a blocked style is a console error, failing the test)."""
    page = contexts(viewport=DESKTOP, storage_state=moderator_storage).new_page()
    page.goto(f"/e/{CODE}/outcomes/")
    expect(page.get_by_role("heading", name="Moore's levels")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") != "none"
    assert_no_violations(page, "outcomes report")
    page.goto(f"/e/{CODE}/report/")
    expect(page.get_by_role("heading", name="Outcomes")).to_be_visible()
