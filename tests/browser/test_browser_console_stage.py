"""The console drives the projector: screen buttons, next/back and the blank key, the theme; its
"On screen now" names and previews exactly what the projector shows; both themes pass axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.console_helpers import phones
from tests.browser.pages import (
    DESKTOP,
    PROJECTOR,
    command,
    open_console,
    open_presenter,
    poll_id,
    result_percent,
)
from tests.browser.stage_checks import text_outside
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser

CAR_T = "Refer for CAR T"


def on_screen(console: Page, presenter: Page, screen: str, words: str) -> None:
    """The projector, the console's preview of it and the console's words agree."""
    expect(presenter.get_by_test_id("stage")).to_have_attribute("data-screen", screen)
    preview = console.frame_locator('[data-testid="stage-preview"]')
    expect(preview.get_by_test_id("stage")).to_have_attribute("data-screen", screen)
    expect(console.get_by_test_id("now-screen")).to_have_text(words)
    pressed = console.locator('[data-testid="screen-controls"] [aria-pressed="true"]')
    if screen == "ended":
        expect(pressed).to_have_count(0)
    else:
        expect(pressed).to_have_attribute("data-screen", screen)
    assert text_outside(presenter) == []


def test_the_console_drives_the_projector_and_shows_exactly_what_it_shows(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    presenter = open_presenter(contexts(viewport=PROJECTOR, storage_state=moderator_storage))
    on_screen(console, presenter, "join", "The join screen: code and QR")

    command(console, "stage-next")
    on_screen(console, presenter, "case", "The case: Case Summary 2")
    console.locator("body").focus()
    console.keyboard.press("ArrowRight")
    question = "What would you recommend for this patient at second relapse?"
    on_screen(console, presenter, "poll", f"The not yet open: “{question}”")
    console.keyboard.press("b")
    on_screen(console, presenter, "blank", "Nothing: the screen is blank")
    console.keyboard.press(".")
    on_screen(console, presenter, "poll", f"The not yet open: “{question}”")
    console.keyboard.press("PageUp")
    on_screen(console, presenter, "case", "The case: Case Summary 2")

    poll = poll_id(console)
    command(console, f"open-poll-{poll}")
    options = [o for o in console.locator(f'[data-poll-id="{poll}"] .agenda-options li').all()]
    first = int(options[0].get_attribute("data-option-id"))
    for phone in phones(demo.url, 3):
        phone.vote(poll, options=[first])
    command(console, f"close-poll-{poll}")
    command(console, f"reveal-results-{poll}")
    expect(result_percent(presenter, CAR_T)).to_have_text("100% (3)")
    # Who is here, on both screens (the moderator's own console and projector are not counted).
    for page in (console, presenter):
        expect(page.get_by_test_id("presence")).to_have_text("3 joined · 3 voted")
    on_screen(console, presenter, "poll", f"The results of “{question}”")

    command(console, "screen-join")
    on_screen(console, presenter, "join", "The join screen: code and QR")
    command(console, "screen-case")
    on_screen(console, presenter, "case", "The case: Case Summary 2")

    # The theme is the event's: the projector turns dark, and both themes pass axe (contrast included).
    console.get_by_test_id("theme-select").select_option("dark")
    expect(presenter.locator("body")).to_have_attribute("data-theme", "dark")
    assert_no_violations(presenter, "dark presenter with the case")
    command(console, "screen-poll")
    expect(presenter.get_by_test_id("results-list")).to_be_visible()
    assert_no_violations(presenter, "dark presenter with results")
    command(console, "screen-join")
    assert_no_violations(presenter, "dark presenter with the join screen")
    assert_no_violations(console, "console with the projector preview")
    console.get_by_test_id("theme-select").select_option("light")
    expect(presenter.locator("body")).to_have_attribute("data-theme", "light")
    command(console, "screen-poll")
    assert_no_violations(presenter, "light presenter with results")

    console.once("dialog", lambda dialog: dialog.accept())
    console.get_by_test_id("end-event").click()
    on_screen(console, presenter, "ended", "The event has ended: the thank-you screen")
    expect(presenter.get_by_test_id("connection-status")).to_have_text("Event ended")
    expect(presenter.get_by_test_id("poll")).to_be_hidden()


def test_the_console_switches_the_projector_between_list_and_word_cloud(demo, contexts, moderator_storage):
    from tests.browser.console_helpers import WirePhone
    from tests.browser.live_moderator import Moderator

    moderator = Moderator(demo, moderator_storage)
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    presenter = open_presenter(contexts(viewport=PROJECTOR, storage_state=moderator_storage))
    text = moderator.poll("text")["id"]
    moderator.open(text)
    WirePhone(demo.url).vote(text, text="Distance to the CAR T centre")
    command(console, "approve-waiting")  # bulk approve: every waiting answer at once
    expect(console.get_by_test_id("pending-count")).to_have_text("0 answers waiting for approval")
    moderator.close(text)
    moderator.command("reveal_results", poll=text)
    expect(presenter.get_by_test_id("answer")).to_have_count(1)
    command(console, "console-text-view-cloud")
    expect(presenter.get_by_test_id("text-view-cloud")).to_have_attribute("aria-pressed", "true")
    expect(presenter.get_by_test_id("cloud-word").filter(has_text="CAR T")).to_have_count(1)
    command(console, "console-text-view-list")
    expect(presenter.get_by_test_id("answer")).to_have_count(1)
