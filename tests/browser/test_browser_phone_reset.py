"""Defects 4 and 5: after a reset a phone forgets its old vote; an unsent answer says so, and that it did not count."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.live_moderator import Moderator
from tests.browser.pages import PHONE, open_phone, vote

pytestmark = pytest.mark.browser

CAR_T = "Refer for CAR T"


def test_after_a_reset_the_phone_shows_no_vote_and_the_same_tap_is_sent_again(demo, contexts, moderator_storage):
    moderator = Moderator(demo, moderator_storage)
    poll = moderator.poll("single")["id"]
    phone = open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True))
    moderator.open(poll)
    vote(phone, CAR_T)
    moderator.close(poll)
    moderator.command("reset_poll", poll=poll, confirm=True)
    moderator.open(poll)
    expect(phone.get_by_role("button", name=CAR_T, exact=True)).to_be_enabled()
    expect(phone.get_by_role("button", name=CAR_T, exact=True)).to_have_attribute("aria-pressed", "false")
    expect(phone.get_by_test_id("vote-receipt")).not_to_have_text("Vote recorded")
    assert moderator.results(poll)["total"] == 0
    vote(phone, CAR_T)
    assert moderator.results(poll)["total"] == 1


def test_an_answer_not_sent_says_so_and_says_it_was_not_counted_when_voting_closes(demo, contexts, moderator_storage):
    moderator = Moderator(demo, moderator_storage)
    likert = moderator.poll("likert")["id"]
    phone = open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True))
    moderator.open(likert)
    receipt = phone.get_by_test_id("vote-receipt")
    phone.get_by_label("Very likely").check()
    expect(receipt).to_have_text("Not sent yet: tap “Send answer” before voting closes.")
    expect(receipt).to_have_attribute("data-state", "unsent")
    phone.get_by_test_id("ballot-submit").click()
    expect(receipt).to_have_text("Vote recorded")
    phone.get_by_label("Unsure").check()
    expect(receipt).to_have_text("Changed, not sent yet: tap “Send answer” or your earlier answer stays.")
    moderator.close(likert)
    expect(receipt).to_have_text("Voting closed before your change was sent: your earlier answer counts.")
    assert moderator.results(likert)["total"] == 1

    fresh = open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True))
    moderator.open(likert)
    fresh.get_by_label("Very likely").check()
    moderator.close(likert)
    expect(fresh.get_by_test_id("vote-receipt")).to_have_text(
        "Voting closed before your answer was sent: it was not counted."
    )


def test_a_long_unbroken_answer_does_not_widen_a_phone(demo, contexts, moderator_storage):
    from tests.browser.console_helpers import WirePhone

    moderator = Moderator(demo, moderator_storage)
    text = moderator.poll("text")["id"]
    phone = open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True))
    moderator.open(text)
    WirePhone(demo.url).vote(text, text="https://example.org/" + "x" * 110)
    answer = moderator.results(text)["answers"][0]["id"]
    moderator.command("approve_answer", answer=answer)
    moderator.close(text)
    moderator.command("reveal_results", poll=text)
    expect(phone.get_by_test_id("answer")).to_have_count(1)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
