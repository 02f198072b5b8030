"""Did the discussion change minds? Two rounds side by side, the transition matrix, and segments."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.console_helpers import option_ids, phones
from tests.browser.pages import (
    DESKTOP,
    PROJECTOR,
    close_poll,
    command,
    open_console,
    open_poll,
    open_presenter,
    poll_id,
    reveal_results,
)
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser

CAR_T = "Refer for CAR T"
BISPECIFIC = "Bispecific on a clinical trial"
DOUBLET = "Conventional doublet or triplet"
OTHER = "Other"
LABELS = [CAR_T, BISPECIFIC, DOUBLET, OTHER]


def compare_row(page: Page, root_testid: str, label: str) -> Locator:
    root = page.get_by_test_id(root_testid)
    return root.get_by_test_id("compare-row").filter(has=page.get_by_role("rowheader", name=label, exact=False))


def matrix_cells(page: Page, root_testid: str) -> list[list[str]]:
    table = page.get_by_test_id(root_testid).get_by_test_id("transition-matrix")
    expect(table).to_be_visible()
    return table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.textContent))"
    )


def expect_two_rounds(page: Page, root_testid: str) -> None:
    """Round 1 had 7/3 of 10; in round 2 two moved to CAR T, one to a doublet, one skipped (9 answered)."""
    expected = {
        CAR_T: ("70% (7)", "78% (7)", "+8 pts"),
        BISPECIFIC: ("30% (3)", "11% (1)", "\u221219 pts"),
        DOUBLET: ("0% (0)", "11% (1)", "+11 pts"),
        OTHER: ("0% (0)", "0% (0)", "\u00b10 pts"),
    }
    root = page.get_by_test_id(root_testid)
    expect(root.get_by_test_id("rounds")).to_contain_text("Round 1 and round 2 side by side")
    for label, (before, after, shift) in expected.items():
        row = compare_row(page, root_testid, label)
        expect(row.locator('[data-testid="round-percent"][data-round="1"]')).to_have_text(before)
        expect(row.locator('[data-testid="round-percent"][data-round="2"]')).to_have_text(after)
        expect(row.get_by_test_id("round-shift")).to_have_text(shift)
    expect(root.get_by_test_id("transition-summary")).to_have_text(
        "9 participants answered both rounds; 3 changed their answer."
    )
    assert matrix_cells(page, root_testid) == [
        ["5", "0", "1", "0"],  # CAR T: five stayed, one moved to a doublet (one skipped round 2)
        ["2", "1", "0", "0"],  # bispecific: two moved to CAR T, one stayed (after changing their mind twice)
        ["0", "0", "0", "0"],
        ["0", "0", "0", "0"],
    ]
    # The matrix is a real table: its cells are announced with their row and column answers.
    cell = root.locator('[data-testid="transition-cell"][data-from="1"][data-to="0"]')
    expect(cell).to_have_attribute("aria-label", f"{BISPECIFIC} to {CAR_T}: 2 participants")


def test_transition_view_after_two_rounds(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    presenter = open_presenter(contexts(viewport=PROJECTOR, storage_state=moderator_storage))
    room = phones(demo.url, 10)

    first = poll_id(console)
    options = option_ids(console, first)
    open_poll(console, first)
    for index, phone in enumerate(room):
        phone.vote(first, options=[options[0] if index < 7 else options[1]])
    expect(console.get_by_test_id(f"poll-count-{first}")).to_have_text("10 responses")
    close_poll(console, first)

    # Ask again: a draft second round appears under the first; the moderator opens it.
    expect(console.get_by_test_id(f"new-round-{first}")).to_be_visible()
    command(console, f"new-round-{first}")
    expect(console.get_by_test_id("console-notice")).to_contain_text("Round 2 was added")
    second_item = console.locator('[data-testid="agenda-poll"][data-round="2"]')
    expect(second_item).to_have_count(1)
    second = int(second_item.get_attribute("data-poll-id"))
    expect(console.get_by_test_id(f"poll-round-{second}")).to_have_text("Round 2")
    options = option_ids(console, second)
    open_poll(console, second)
    expect(presenter.get_by_test_id("poll-question")).to_contain_text("(round 2)")

    answers = {0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 2, 7: 0, 8: 0}  # phone 6 skips round 2
    for index, choice in answers.items():
        room[index].vote(second, options=[options[choice]])
    room[9].vote(second, options=[options[0]])
    room[9].vote(second, options=[options[1]])  # changed their mind within the round: the last ballot counts
    expect(console.get_by_test_id(f"poll-count-{second}")).to_have_text("9 responses")
    # Before the reveal the room sees only the count; the console already sees the comparison.
    expect(presenter.get_by_test_id("rounds")).to_have_count(0)
    expect_two_rounds(console, "now-comparisons")

    close_poll(console, second)
    reveal_results(console, second)
    expect(presenter.get_by_test_id("response-count")).to_have_text("Voting closed · 9 responses")
    expect_two_rounds(presenter, "comparisons")
    expect(presenter.get_by_test_id("transition-flow")).to_be_attached()

    assert_no_violations(presenter, "presenter with rounds and transitions")
    assert_no_violations(console, "console with rounds and transitions")


def expect_segment(page: Page, root_testid: str, segment: str, text: str) -> Locator:
    card = page.get_by_test_id(root_testid).locator(f'[data-testid="segment"][data-segment="{segment}"]')
    expect(card).to_contain_text(text)
    return card


def test_segments_split_results_and_suppress_small_groups(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    presenter = open_presenter(contexts(viewport=PROJECTOR, storage_state=moderator_storage))
    room = phones(demo.url, 11)
    settings = ["Academic centre"] * 5 + ["Community practice"] * 5 + [None]
    for phone, setting in zip(room, settings, strict=True):
        if setting:
            phone.profile(setting=setting)

    poll = poll_id(console)
    options = option_ids(console, poll)
    open_poll(console, poll)
    for index, phone in enumerate(room):
        phone.vote(poll, options=[options[0] if index % 5 < 4 else options[1]])
    close_poll(console, poll)

    # The console splits its own view by any attribute the event asks.
    console.get_by_test_id("segment-select").select_option(label="Practice setting")
    expect(console.get_by_test_id("console-segments")).to_contain_text("By practice setting")
    academic = expect_segment(console, "console-segments", "Academic centre", "5 responses")
    expect(academic.get_by_role("listitem").filter(has_text=CAR_T)).to_contain_text("80%")
    # Community (5) would leave "not stated" (1) alone and recoverable: it joins "other" too.
    expect_segment(console, "console-segments", "other", "6 responses")
    expect(console.get_by_test_id("console-segments").get_by_test_id("segment")).to_have_count(2)

    # On command the presenter shows the same split once results are revealed.
    reveal_results(console, poll)
    select = console.get_by_test_id("presenter-segment-select")
    select.select_option(label="Practice setting")
    expect(select).not_to_have_attribute("aria-busy", "true")
    expect(select).to_have_value("setting")
    expect_segment(presenter, "segments", "Academic centre", "80%")
    expect_segment(presenter, "segments", "other", "6 responses")

    # Three answers on the scale poll: too few for any group, so "other" keeps only its size.
    likert = int(console.locator('[data-testid="agenda-poll"][data-kind="likert"]').get_attribute("data-poll-id"))
    scale = option_ids(console, likert)
    open_poll(console, likert)
    for phone in room[:3]:
        phone.vote(likert, options=[scale[4]])
    close_poll(console, likert)
    reveal_results(console, likert)
    for page, root in ((console, "console-segments"), (presenter, "segments")):
        card = expect_segment(page, root, "other", "3 responses")
        expect(card).to_contain_text("Other (too few to show)")
        expect(card).to_contain_text("Hidden to protect privacy")
        expect(card.locator(".segment-row")).to_have_count(0)
        expect(page.get_by_test_id(root).get_by_test_id("segment")).to_have_count(1)
    assert_no_violations(presenter, "presenter with a suppressed segment")
    assert_no_violations(console, "console with a suppressed segment")

    # Stop splitting: the presenter goes back to results for everyone.
    select.select_option(label="Not split")
    expect(presenter.get_by_test_id("segments")).to_be_hidden()
