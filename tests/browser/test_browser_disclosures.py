"""Disclosures before the content (issue 15): the moderator shows them first from the console's
screen buttons; the projector fits them on every screen size and passes axe, and so does the
phone that shows them at join."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.live_moderator import shell
from tests.browser.pages import CODE, DESKTOP, PHONE, open_console, open_phone, open_presenter
from tests.browser.stage_checks import text_outside
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser

SCREENS = {"1080p": (1920, 1080), "720p": (1280, 720), "4:3": (1024, 768)}
# Six faculty, some with long relationships and a mitigation: more than a slide holds at full size.
ADD_DISCLOSURES = """
from polls.models import Disclosure, Event
event = Event.objects.get(code="CASE2")
Disclosure.objects.filter(event=event).delete()
for i in range(6):
    if i % 3 == 2:
        Disclosure.objects.create(event=event, position=i, faculty_name=f"Dr Faculty {i}", role="Panelist",
                                  nothing_to_disclose=True)
    else:
        Disclosure.objects.create(event=event, position=i, faculty_name=f"Dr Faculty {i}", role="Speaker",
            relationships="Consultant and advisory board: Example Pharma; research funding to institution: "
                          "Another Company; speakers bureau: Third Company",
            mitigation="Slides reviewed by a planner without relationships; recommendations rest on guidelines.")
print(Disclosure.objects.filter(event=event).count())
"""
REMOVE_DISCLOSURES = """
from polls.models import Disclosure
print(Disclosure.objects.filter(event__code="CASE2").delete()[0])
"""


@pytest.fixture
def disclosed(demo):
    assert shell(demo, ADD_DISCLOSURES) == "6"
    yield demo
    shell(demo, REMOVE_DISCLOSURES)  # the other browser tests expect the demo without them


def test_the_moderator_shows_the_disclosures_first_and_they_fit_every_projector(disclosed, contexts, moderator_storage):
    projectors = {
        name: open_presenter(contexts(viewport={"width": w, "height": h}, storage_state=moderator_storage))
        for name, (w, h) in SCREENS.items()
    }
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    console.get_by_test_id("screen-disclosures").click()
    expect(console.get_by_test_id("screen-disclosures")).to_have_attribute("aria-pressed", "true")
    expect(console.get_by_test_id("now-screen")).to_have_text("The faculty's disclosures")
    for name, page in projectors.items():
        expect(page.get_by_test_id("stage")).to_have_attribute("data-screen", "disclosures")
        expect(page.get_by_test_id("disclosures").get_by_text("Dr Faculty 5")).to_be_visible()
        page.wait_for_function("() => document.fonts.status === 'loaded'")
        assert text_outside(page) == [], name
    assert_no_violations(projectors["1080p"], "disclosures (projector)")
    projectors["1080p"].evaluate("document.body.dataset.theme = 'dark'")
    assert_no_violations(projectors["1080p"], "disclosures (projector, dark)")


def test_a_phone_shows_the_disclosures_at_join_and_folds_them_away(disclosed, contexts):
    phone = open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True))
    panel = phone.get_by_test_id("disclosures")
    expect(panel).to_be_visible()
    expect(panel.get_by_text("Dr Faculty 0")).to_be_visible()
    assert_no_violations(phone, "disclosures (phone)")
    panel.locator("summary").click()
    expect(panel.get_by_text("Dr Faculty 0")).to_be_hidden()
    assert phone.url.endswith(f"/e/{CODE}/")
