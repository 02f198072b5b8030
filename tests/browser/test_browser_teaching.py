"""Teaching points revealed on the console appear live on phones and the presenter screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.pages import DESKTOP, PHONE, PROJECTOR, command, open_console, open_phone, open_presenter

pytestmark = pytest.mark.browser


def test_revealed_teaching_point_appears_on_phone_and_presenter_without_reload(demo, contexts, moderator_storage):
    phone = open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True))
    presenter = open_presenter(contexts(viewport=PROJECTOR, storage_state=moderator_storage))
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    expect(phone.get_by_test_id("teaching-point")).to_have_count(0)
    expect(presenter.get_by_test_id("teaching-point")).to_have_count(0)
    # A marker that a reload would wipe out.
    phone.evaluate("window.__noReload = true")
    presenter.evaluate("window.__noReload = true")

    item = console.get_by_test_id("agenda-point").filter(has_text="KarMMa-3")
    point = item.get_attribute("data-teaching-point-id")
    command(console, f"reveal-tp-{point}")
    expect(console.get_by_test_id(f"tp-state-{point}")).to_have_text("Shown")

    for page in (phone, presenter):
        card = page.get_by_test_id("teaching-point")
        expect(card).to_have_count(1)
        expect(card).to_have_attribute("data-teaching-point-id", point)
        expect(card.get_by_role("heading")).to_contain_text("KarMMa-3")
        link = card.get_by_role("link", name="NCT03651128")
        expect(link).to_have_attribute("href", "https://clinicaltrials.gov/study/NCT03651128")
        assert page.evaluate("window.__noReload") is True

    command(console, f"hide-tp-{point}")
    for page in (phone, presenter):
        expect(page.get_by_test_id("teaching-point")).to_have_count(0)
        assert page.evaluate("window.__noReload") is True
