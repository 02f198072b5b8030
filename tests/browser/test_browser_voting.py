"""The live vote of the issue: ten phones, the console, the presenter screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import (
    CODE,
    DESKTOP,
    PHONE,
    PROJECTOR,
    close_poll,
    expect_live,
    log_in,
    open_console,
    open_phone,
    open_poll,
    poll_id,
    result_percent,
    reveal_results,
    vote,
)

pytestmark = pytest.mark.browser

CAR_T = "Refer for CAR T"
BISPECIFIC = "Bispecific on a clinical trial"


def test_ten_phones_vote_and_presenter_and_phone_show_70_30(demo, contexts):
    phones = [open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True)) for _ in range(10)]
    for phone in phones:
        expect(phone.get_by_test_id("waiting")).to_contain_text("Waiting for the moderator")

    # The moderator signs in on a laptop and lands on the console.
    console = contexts(viewport=DESKTOP).new_page()
    log_in(console, password=demo.password, next_path=f"/e/{CODE}/moderate/")
    expect(console).to_have_url(re.compile(f"/e/{CODE}/moderate/$"))
    expect_live(console)
    # The projector opens the secret presenter link shown on the console, without signing in.
    presenter = contexts(viewport=PROJECTOR).new_page()
    presenter.goto(console.get_by_test_id("presenter-link").get_attribute("href"))
    expect(presenter).to_have_url(re.compile(f"/e/{CODE}/present/$"))
    expect_live(presenter)
    expect(presenter.get_by_test_id("welcome")).to_contain_text(CODE)

    poll = poll_id(console)
    open_poll(console, poll)

    for index, phone in enumerate(phones):
        expect(phone.get_by_test_id("poll-state")).to_have_text("Poll open")
        vote(phone, CAR_T if index < 7 else BISPECIFIC)
        if index == 0:
            # The voter's own phone shows the running total at once (from its ack), never the split.
            expect(phone.get_by_test_id("live-total")).to_have_text("1 response so far")

    # While hidden, the presenter shows only the number of responses, never the split.
    expect(presenter.get_by_test_id("response-count")).to_have_text("10 responses")
    expect(presenter.get_by_test_id("result-row")).to_have_count(0)
    expect(console.get_by_test_id(f"poll-count-{poll}")).to_have_text("10 responses")
    expect(phones[0].get_by_test_id("live-total")).to_have_text("10 responses so far")

    close_poll(console, poll)
    expect(phones[0].get_by_test_id("poll-state")).to_have_text("Poll closed")
    expect(phones[0].get_by_test_id("live-total")).to_be_hidden()
    expect(phones[0].get_by_role("button", name=CAR_T, exact=True)).to_be_disabled()
    reveal_results(console, poll)

    for page in (presenter, phones[0], phones[9]):
        expect(result_percent(page, CAR_T)).to_have_text("70% (7)")
        expect(result_percent(page, BISPECIFIC)).to_have_text("30% (3)")
        expect(result_percent(page, "Conventional doublet or triplet")).to_have_text("0% (0)")
    assert (
        presenter.get_by_test_id("result-row")
        .filter(has_text=CAR_T)
        .locator(".result-fill")
        .evaluate("el => el.style.width")
        == "70%"
    )
    expect(phones[9].get_by_test_id("vote-receipt")).to_have_text("Vote recorded")


def test_vote_can_be_changed_while_open_and_is_refused_after_close(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    phone = open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True))
    poll = poll_id(console)
    open_poll(console, poll)
    vote(phone, CAR_T)
    vote(phone, BISPECIFIC)
    expect(phone.get_by_role("button", name=CAR_T, exact=True)).to_have_attribute("aria-pressed", "false")
    expect(console.get_by_test_id(f"poll-count-{poll}")).to_have_text("1 response")

    # The vote survives a reload: the server's my_vote restores the receipt.
    phone.reload()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    expect(phone.get_by_role("button", name=BISPECIFIC, exact=True)).to_have_attribute("aria-pressed", "true")

    close_poll(console, poll)
    expect(phone.get_by_test_id("poll-state")).to_have_text("Poll closed")
    expect(phone.get_by_test_id("results")).to_be_hidden()


def test_join_code_typed_in_lower_case_leads_to_the_event(server, contexts):
    phone = contexts(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto("/")
    field = phone.get_by_label("Event code")
    expect(field).to_have_attribute("autocapitalize", "characters")
    expect(field).to_have_attribute("inputmode", "text")
    field.fill(CODE.lower())
    phone.get_by_role("button", name="Join").click()
    expect(phone).to_have_url(re.compile(f"/e/{CODE}/$"))
    expect_live(phone)
