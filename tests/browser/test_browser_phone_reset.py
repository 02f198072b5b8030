"""Defect 4: after a reset the phone forgets its old vote, and tapping the same answer again counts."""

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
