"""What a person does on each Caseboard screen, as small helpers over sync Playwright pages."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Locator, Page, expect

CODE = "CASE2"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 900}
PROJECTOR = {"width": 1280, "height": 720}
PRE_DISCUSSION_OPTION = "Refer for CAR T"
TIMEOUT_MS = 15_000

expect.set_options(timeout=TIMEOUT_MS)


def watch_console(page: Page, problems: list[str]) -> None:
    """Collect console errors (CSP violations appear there) and uncaught exceptions."""

    def on_console(message) -> None:
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource") and message.location.get("url") == page.url:
            return  # the document's own status (a 404 page on purpose), not a broken asset
        problems.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: uncaught {exc}"))


def log_in(page: Page, *, password: str, next_path: str = "") -> None:
    page.goto(f"/accounts/login/?next={next_path}" if next_path else "/accounts/login/")
    page.get_by_label("Username").fill("moderator")
    page.get_by_label("Password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-submit")).to_have_count(0)


def expect_live(page: Page) -> None:
    expect(page.get_by_test_id("connection-status")).to_have_text("Live")


def open_console(context: BrowserContext) -> Page:
    page = context.new_page()
    page.goto(f"/e/{CODE}/moderate/")
    expect_live(page)
    expect(page.get_by_test_id("agenda-poll").first).to_be_visible()
    return page


def open_phone(context: BrowserContext) -> Page:
    page = context.new_page()
    page.goto(f"/e/{CODE}/")
    expect_live(page)
    return page


def open_presenter(context: BrowserContext) -> Page:
    page = context.new_page()
    page.goto(f"/e/{CODE}/present/")
    expect_live(page)
    return page


def agenda_poll(console: Page, option_label: str) -> Locator:
    """The console's agenda entry of the poll offering `option_label`."""
    return console.get_by_test_id("agenda-poll").filter(has=console.get_by_text(option_label, exact=True)).first


def poll_id(console: Page, option_label: str = PRE_DISCUSSION_OPTION) -> int:
    return int(agenda_poll(console, option_label).get_attribute("data-poll-id"))


def command(console: Page, testid: str) -> None:
    """Click a console button and wait until the server acknowledged it (the button is no longer busy)."""
    button = console.get_by_test_id(testid)
    expect(button).to_be_enabled()
    button.click()
    expect(button).not_to_have_attribute("aria-busy", "true")
    expect(console.get_by_test_id("console-error")).to_have_count(0)


def open_poll(console: Page, poll: int) -> None:
    command(console, f"open-poll-{poll}")
    expect(console.get_by_test_id(f"poll-state-{poll}")).to_have_text("Poll open")


def close_poll(console: Page, poll: int) -> None:
    command(console, f"close-poll-{poll}")
    expect(console.get_by_test_id(f"poll-state-{poll}")).to_have_text("Poll closed")


def reveal_results(console: Page, poll: int) -> None:
    command(console, f"reveal-results-{poll}")
    expect(console.get_by_test_id(f"hide-results-{poll}")).to_be_visible()


def vote(phone: Page, label: str) -> None:
    phone.get_by_role("button", name=label, exact=True).click()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    expect(phone.get_by_role("button", name=label, exact=True)).to_have_attribute("aria-pressed", "true")


def result_percent(page: Page, label: str) -> Locator:
    label_cell = page.get_by_test_id("result-label").get_by_text(label, exact=True)
    return page.get_by_test_id("result-row").filter(has=label_cell).get_by_test_id("result-percent")
