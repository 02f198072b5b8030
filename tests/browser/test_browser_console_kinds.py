"""The console's commands for every poll kind, and what the presenter shows for each."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.console_helpers import option_ids, panelist, phones
from tests.browser.pages import (
    DESKTOP,
    PROJECTOR,
    close_poll,
    command,
    open_console,
    open_poll,
    open_presenter,
    poll_id,
    result_percent,
    reveal_results,
)
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser

CAR_T = "Refer for CAR T"
BISPECIFIC = "Bispecific on a clinical trial"


def poll_of_kind(console: Page, kind: str) -> int:
    return int(console.locator(f'[data-testid="agenda-poll"][data-kind="{kind}"]').first.get_attribute("data-poll-id"))


@pytest.fixture
def screens(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    presenter = open_presenter(contexts(viewport=PROJECTOR, storage_state=moderator_storage))
    return console, presenter


def test_reset_needs_a_confirmation_step(demo, screens):
    console, _ = screens
    poll = poll_id(console)
    options = option_ids(console, poll)
    open_poll(console, poll)
    expect(console.get_by_test_id(f"reset-poll-{poll}")).to_be_disabled()  # never while votes come in
    for phone in phones(demo.url, 2):
        phone.vote(poll, options=[options[0]])
    close_poll(console, poll)
    dialog = console.get_by_test_id("reset-dialog")

    console.get_by_test_id(f"reset-poll-{poll}").click()
    expect(dialog).to_be_visible()
    expect(console.get_by_test_id("reset-text")).to_contain_text("2 responses will be removed")
    console.get_by_test_id("cancel-reset").click()
    expect(dialog).to_be_hidden()
    expect(console.get_by_test_id(f"reset-poll-{poll}")).to_be_focused()
    expect(console.get_by_test_id(f"poll-count-{poll}")).to_have_text("2 responses")

    console.get_by_test_id(f"reset-poll-{poll}").click()
    console.keyboard.press("Escape")  # the native dialog's own way out keeps the votes too
    expect(dialog).to_be_hidden()
    expect(console.get_by_test_id(f"poll-count-{poll}")).to_have_text("2 responses")

    console.get_by_test_id(f"reset-poll-{poll}").click()
    console.get_by_test_id("confirm-reset").click()
    expect(console.get_by_test_id(f"poll-count-{poll}")).to_have_text("0 responses")
    expect(console.get_by_test_id("console-notice")).to_have_text("The poll's votes were deleted.")
    expect(console.get_by_test_id("console-error")).to_have_count(0)


def test_duplicate_adds_a_draft_copy_below(screens):
    console, _ = screens
    polls = console.get_by_test_id("agenda-poll")
    before = polls.count()
    poll = poll_of_kind(console, "ranking")
    command(console, f"duplicate-poll-{poll}")
    expect(polls).to_have_count(before + 1)
    copies = polls.filter(has_text="Rank these options for his next line of therapy")
    expect(copies).to_have_count(2)
    copy = int(copies.nth(1).get_attribute("data-poll-id"))
    assert copy != poll
    expect(console.get_by_test_id(f"poll-state-{copy}")).to_have_text("Not open yet")
    expect(console.get_by_test_id("console-notice")).to_contain_text("draft copy")


def test_approved_free_text_answer_appears_on_the_presenter(demo, screens):
    console, presenter = screens
    poll = poll_of_kind(console, "text")
    open_poll(console, poll)
    texts = ["Distance to the CAR T centre", "Insurance approval delays", "Distance and a caregiver"]
    for phone, text in zip(phones(demo.url, 3), texts, strict=True):
        phone.vote(poll, text=text)
    expect(console.get_by_test_id("pending-count")).to_have_text("3 answers waiting for approval")
    reveal_results(console, poll)
    expect(presenter.get_by_test_id("no-answers")).to_have_text("No answers shown yet.")
    expect(presenter.get_by_test_id("answer")).to_have_count(0)

    def answer_id(text: str) -> str:
        return console.get_by_test_id("queue-answer").filter(has_text=text).get_attribute("data-answer-id")

    distance, insurance = answer_id(texts[0]), answer_id(texts[1])
    command(console, f"approve-answer-{distance}")
    command(console, f"approve-answer-{answer_id(texts[2])}")
    expect(console.get_by_test_id(f"answer-status-{distance}")).to_have_text("Shown")
    expect(console.get_by_test_id("pending-count")).to_have_text("1 answer waiting for approval")
    expect(presenter.get_by_test_id("answer").filter(has_text=texts[0])).to_have_count(1)
    expect(presenter.get_by_test_id("answer")).to_have_count(2)

    # The presenter can show the approved answers as a word cloud (stop words removed).
    presenter.get_by_test_id("text-view-cloud").click()
    expect(presenter.get_by_test_id("text-view-cloud")).to_have_attribute("aria-pressed", "true")
    expect(presenter.get_by_test_id("answer")).to_have_count(0)
    largest = presenter.locator(".cloud-size-5")
    expect(largest).to_have_count(1)
    expect(largest).to_contain_text("distance")
    expect(presenter.get_by_test_id("cloud-word").filter(has_text=re.compile(r"^and\b"))).to_have_count(0)
    presenter.get_by_test_id("text-view-list").click()

    command(console, f"reject-answer-{insurance}")
    expect(console.get_by_test_id(f"answer-status-{insurance}")).to_have_text("Rejected")
    command(console, f"reject-answer-{distance}")  # withdrawn again
    expect(presenter.get_by_test_id("answer")).to_have_count(1)
    expect(presenter.get_by_test_id("answer").filter(has_text=texts[0])).to_have_count(0)
    assert_no_violations(console, "console with the answer queue")
    assert_no_violations(presenter, "presenter with approved answers")


def test_preferred_answer_panel_and_concordance_on_the_presenter(demo, screens):
    console, presenter = screens
    poll = poll_id(console)
    options = option_ids(console, poll)
    expect(console.get_by_test_id(f"reveal-preferred-{poll}")).to_be_disabled()  # not before the poll opens
    open_poll(console, poll)
    for index, phone in enumerate(phones(demo.url, 4)):
        phone.vote(poll, options=[options[0] if index < 3 else options[1]])
    close_poll(console, poll)
    reveal_results(console, poll)
    row = presenter.get_by_test_id("result-row").filter(has_text=CAR_T)
    expect(result_percent(presenter, CAR_T)).to_have_text("75% (3)")
    expect(row).not_to_have_class(re.compile("is-preferred"))
    expect(presenter.get_by_test_id("preferred-note")).to_have_count(0)
    expect(presenter.get_by_test_id("concordance-preferred")).to_have_count(0)

    command(console, f"reveal-preferred-{poll}")
    expect(row).to_have_class(re.compile("is-preferred"))
    expect(row.get_by_test_id("result-meta")).to_contain_text("Preferred")
    expect(presenter.get_by_test_id("preferred-note")).to_contain_text("IMWG guidance (2025)")
    expect(presenter.get_by_test_id("concordance-preferred")).to_have_text(
        "75% of the audience chose the preferred answer (3 of 4)"
    )

    # Two panelists vote apart from the audience: the presenter sets the panel beside it, once the
    # organisers allow cells of two (below the event's min_cell_size a panel shows its size only).
    demo.manage(
        "shell", "-c", "from polls.models import Event; Event.objects.filter(code='CASE2').update(min_cell_size=2)"
    )
    open_poll(console, poll)
    for name in ("panelist-a", "panelist-b"):
        panelist(demo, name).vote(poll, options=[options[1]])
    close_poll(console, poll)
    table = presenter.get_by_test_id("panel-table")
    expect(table).to_be_visible()
    bispecific = table.get_by_test_id("compare-row").filter(has_text=BISPECIFIC)
    expect(bispecific.get_by_test_id("audience-percent")).to_have_text("25% (1)")
    expect(bispecific.get_by_test_id("panel-percent")).to_have_text("100% (2)")
    expect(table.get_by_test_id("compare-row").filter(has_text=CAR_T)).to_contain_text("Preferred")
    expect(presenter.get_by_test_id("concordance-panel")).to_have_text(
        "25% of the audience chose the panel\u2019s majority answer (1 of 4)"
    )
    expect(presenter.get_by_test_id("response-count")).to_have_text("Voting closed · 4 responses")
    assert_no_violations(presenter, "presenter with panel and preferred answer")

    command(console, f"hide-preferred-{poll}")
    expect(presenter.get_by_test_id("preferred-note")).to_have_count(0)
    expect(presenter.get_by_test_id("concordance-preferred")).to_have_count(0)


def test_countdown_shows_and_closes_the_poll(screens):
    console, presenter = screens
    poll = poll_of_kind(console, "likert")
    # The console offers 30 s and more; a test cannot wait that long, so it adds a shorter choice
    # to the same select (the server accepts 5 s to an hour).
    console.get_by_test_id(f"timer-{poll}").evaluate("select => select.add(new Option('6 seconds', '6'))")
    console.get_by_test_id(f"timer-{poll}").select_option("6")
    open_poll(console, poll)
    expect(console.get_by_test_id(f"timer-{poll}")).to_be_disabled()
    expect(presenter.get_by_test_id("countdown")).to_have_text(re.compile(r"^Closes in 0:0\d$"))
    expect(console.get_by_test_id(f"poll-countdown-{poll}")).to_be_visible()
    expect(console.get_by_test_id(f"poll-state-{poll}")).to_have_text("Poll closed", timeout=20_000)
    expect(presenter.get_by_test_id("countdown")).to_be_hidden()
    expect(presenter.get_by_test_id("response-count")).to_have_text("Voting closed · 0 responses")


def test_scale_number_and_ranking_results_and_a_revealed_fact(demo, screens):
    console, presenter = screens
    room = phones(demo.url, 5)

    fact = console.get_by_test_id("agenda-fact").first.get_attribute("data-fact-id")
    command(console, f"show-case-{console.get_by_test_id('agenda-case').first.get_attribute('data-case-id')}")
    expect(presenter.get_by_test_id("case-fact")).to_have_count(0)
    command(console, f"reveal-fact-{fact}")
    expect(console.get_by_test_id(f"fact-state-{fact}")).to_have_text("Shown")
    expect(presenter.get_by_test_id("case-fact")).to_contain_text("90 minutes")

    likert = poll_of_kind(console, "likert")
    scale = option_ids(console, likert)
    open_poll(console, likert)
    for phone, point in zip(room, [5, 5, 4, 3, 5], strict=True):
        phone.vote(likert, options=[scale[point - 1]])
    expect(console.get_by_test_id(f"poll-summary-{likert}")).to_have_text("Mean 4.4, median 5 of 5")
    close_poll(console, likert)
    reveal_results(console, likert)
    expect(result_percent(presenter, "Very likely")).to_have_text("60% (3)")
    expect(presenter.get_by_test_id("scale-caption")).to_have_text(
        "Mean 4.4 and median 5 (Very likely) on a 5-point scale (1 = Very unlikely, 5 = Very likely)."
    )
    assert_no_violations(presenter, "presenter with a scale")

    numeric = poll_of_kind(console, "numeric")
    open_poll(console, numeric)
    for phone, months in zip(room, [6, 6, 3, 12, 24], strict=True):
        phone.vote(numeric, value=months)
    close_poll(console, numeric)
    reveal_results(console, numeric)
    expect(presenter.get_by_test_id("numeric-median")).to_have_text("6 months")
    expect(presenter.get_by_test_id("numeric-n")).to_have_text("n = 5")
    expect(presenter.get_by_test_id("histogram-bin")).to_have_count(10)
    expect(presenter.locator('[data-testid="histogram-bin"].is-median')).to_contain_text("4.8\u20137.2")
    expect(console.get_by_test_id(f"poll-summary-{numeric}")).to_have_text("Median 6 months, n = 5")
    assert_no_violations(presenter, "presenter with a histogram")

    ranking = poll_of_kind(console, "ranking")
    order = option_ids(console, ranking)
    open_poll(console, ranking)
    for index, phone in enumerate(room):
        phone.vote(ranking, options=order if index < 3 else [order[1], order[0], order[2], order[3]])
    close_poll(console, ranking)
    reveal_results(console, ranking)
    rows = presenter.get_by_test_id("ranking-row")
    expect(rows.first).to_contain_text("Cilta-cel (CAR T)")
    expect(rows.first.get_by_test_id("rank-borda")).to_have_text("Borda 13")  # 3 firsts x 3 + 2 seconds x 2
    expect(rows.first.get_by_test_id("result-meta")).to_have_text("mean rank 1.4")
    expect(rows.nth(1)).to_contain_text("BCMA bispecific")
    assert_no_violations(presenter, "presenter with a ranking")
    assert_no_violations(console, "console with a ranking")
