"""axe-core finds no accessibility violations on any screen, with its interesting parts on show."""

from __future__ import annotations

import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.pages import (
    DESKTOP,
    PHONE,
    PROJECTOR,
    command,
    open_console,
    open_phone,
    open_poll,
    open_presenter,
    poll_id,
    result_percent,
    reveal_results,
    vote,
)

pytestmark = pytest.mark.browser

CAR_T = "Refer for CAR T"


def assert_no_violations(page: Page, screen: str) -> None:
    results = Axe().run(page)
    violations = results.response["violations"]
    details = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in violations
    ]
    if details:
        print(f"axe violations on the {screen} screen:\n{json.dumps(details, indent=2)}")
    assert violations == [], f"{screen}: {json.dumps(details, indent=2)}"


def test_screens_have_no_axe_violations_with_a_poll_open_and_results_revealed(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    presenter = open_presenter(contexts(viewport=PROJECTOR, storage_state=moderator_storage))
    phone = open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True))
    poll = poll_id(console)
    open_poll(console, poll)
    vote(phone, CAR_T)
    reveal_results(console, poll)
    point = console.get_by_test_id("agenda-point").first.get_attribute("data-teaching-point-id")
    command(console, f"reveal-tp-{point}")
    for page in (phone, presenter):
        expect(result_percent(page, CAR_T)).to_have_text("100% (1)")
        expect(page.get_by_test_id("teaching-point")).to_have_count(1)
    expect(phone.get_by_test_id("option").first).to_be_enabled()  # still open: the answer buttons are shown
    expect(console.get_by_test_id(f"poll-count-{poll}")).to_have_text("1 response")

    assert_no_violations(phone, "participant")
    assert_no_violations(presenter, "presenter")
    assert_no_violations(console, "moderator")


def test_entry_pages_have_no_axe_violations(server, contexts):
    page = contexts(viewport=PHONE, is_mobile=True).new_page()
    page.goto("/")
    assert_no_violations(page, "landing")
    page.get_by_label("Event code").fill("nope22")
    page.get_by_test_id("join-submit").click()
    expect(page.get_by_role("alert")).to_contain_text("No event uses that code")
    assert_no_violations(page, "landing with an error")
    page.goto("/accounts/login/")
    assert_no_violations(page, "login")


def test_console_keeps_keyboard_focus_next_to_a_command_that_disabled_its_button(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    poll = poll_id(console)
    console.get_by_test_id(f"open-poll-{poll}").focus()
    console.keyboard.press("Enter")
    expect(console.get_by_test_id(f"poll-state-{poll}")).to_have_text("Poll open")
    expect(console.get_by_test_id(f"close-poll-{poll}")).to_be_focused()
    console.keyboard.press("Enter")
    expect(console.get_by_test_id(f"poll-state-{poll}")).to_have_text("Poll closed")
    expect(console.get_by_test_id(f"open-poll-{poll}")).to_be_focused()
