"""Issue 18 in a real browser: a phone follows its event's language, the JavaScript reads the
server-rendered catalogue (under the page's CSP), and the phone switches to its own language.

The issue's full acceptance test (a poll with Spanish and German phones and a French projector)
waits for the participant and projector pages' conversion (docs/i18n.md)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.live_moderator import shell
from tests.browser.pages import CODE, PHONE
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def spanish_demo(demo):
    shell(demo, f'from polls.models import Event; print(Event.objects.filter(code="{CODE}").update(language="es"))')
    yield demo
    shell(demo, f'from polls.models import Event; print(Event.objects.filter(code="{CODE}").update(language="en"))')


def test_a_german_phone_on_a_spanish_event_reads_spanish_then_switches_to_german(spanish_demo, contexts):
    phone = contexts(viewport=PHONE, is_mobile=True, has_touch=True, locale="de-DE").new_page()
    phone.goto(f"/e/{CODE}/")
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    # live.js's status comes from the catalogue the server put in the page.
    expect(phone.get_by_test_id("connection-status")).to_have_text("En directo")
    switcher = phone.get_by_role("combobox", name="Idioma")
    expect(switcher.locator("option").first).to_have_attribute("value", "de")  # the phone's own first
    assert_no_violations(phone, "Spanish phone with the language switcher")
    switcher.select_option("de")
    phone.get_by_role("button", name="Cambiar").click()
    expect(phone.locator("html")).to_have_attribute("lang", "de")
    expect(phone.get_by_role("link", name="Zum Hauptinhalt springen")).to_be_attached()
    expect(phone.get_by_test_id("connection-status")).to_have_text("Live")
    assert_no_violations(phone, "German phone")
