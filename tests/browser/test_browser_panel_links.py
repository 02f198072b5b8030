"""Panelists by invitation: the console makes a named link, a phone opens it and votes as the
panel without an account, and withdrawing the link ends that phone's panel at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.live_moderator import Moderator
from tests.browser.pages import CODE, DESKTOP, PHONE, expect_live, open_console
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser


def test_a_panelist_link_from_the_console_votes_as_the_panel_until_withdrawn(demo, moderator_storage, contexts):
    moderator = Moderator(demo, moderator_storage)
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    console.get_by_label("Panelist's name").fill("Dr Ada Panel")
    console.get_by_test_id("create-panelist-link").click()
    link = console.get_by_test_id("panelist-link").filter(has_text="Dr Ada Panel")
    expect(link).to_be_visible()
    url = link.get_by_test_id("panelist-url").input_value()
    assert f"/e/{CODE}/panel/" in url
    expect_live(console)
    assert_no_violations(console, "console with a panelist link")

    panel = contexts(viewport=PHONE, is_mobile=True, has_touch=True).new_page()  # no account
    panel.goto(url)
    expect(panel).to_have_url(f"{demo.url}/e/{CODE}/panel/")  # the token leaves the address bar
    expect_live(panel)
    expect(panel.get_by_test_id("panel-banner")).to_contain_text("Faculty panel view")

    likert = moderator.poll("likert")
    moderator.open(likert["id"])
    panel.get_by_label("Somewhat likely").check()
    panel.get_by_test_id("ballot-submit").click()
    expect(panel.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    tally = moderator.results(likert["id"])
    assert tally["total"] == 0 and tally["panel"]["total"] == 1  # the panel's, not the audience's

    link.get_by_test_id("revoke-panelist").click()
    expect(console.get_by_test_id("panelist-link").filter(has_text="Dr Ada Panel")).to_contain_text("withdrawn")
    # the panel phone is closed and says why, without a reload by hand
    expect(panel.get_by_test_id("panel-link-invalid")).to_contain_text("withdrew")
    assert_no_violations(panel, "withdrawn panelist link")

    again = contexts(viewport=PHONE, is_mobile=True).new_page()
    again.goto(url)
    expect(again.get_by_test_id("panel-link-invalid")).to_be_visible()
