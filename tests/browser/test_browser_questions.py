"""Audience questions in Chromium: ten phones ask and upvote, the moderator approves, merges two
duplicates and pins one; the projector and the phones show the right order and counts; axe is clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import CODE, DESKTOP, PHONE, PROJECTOR, open_console, open_phone, open_presenter
from tests.browser.stage_checks import text_outside
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser

KEPT = "Is CAR T still an option after a bispecific?"
DUPLICATE = "CAR-T after a bispecific: still worth it?"
MRD = "Should MRD guide maintenance after ASCT?"
HOSTILE = '<img src=x onerror="alert(1)"> counts as text?'


def ask(phone: Page, text: str) -> None:
    phone.get_by_test_id("question-input").fill(text)
    phone.get_by_test_id("question-submit").click()
    expect(phone.get_by_test_id("question-status")).to_contain_text("awaits the moderator")
    mine = phone.get_by_test_id("question").filter(has_text=text)
    expect(mine).to_contain_text("Awaiting moderation")


def phone_question(phone: Page, text: str):
    return phone.get_by_test_id("question-list").get_by_test_id("question").filter(has_text=text)


def upvote(phone: Page, text: str) -> None:
    question = phone_question(phone, text)
    question.get_by_test_id("question-upvote").click()
    expect(question.get_by_test_id("question-upvote")).to_have_attribute("aria-pressed", "true")


def console_question(console: Page, text: str):
    # By its own text: every item's merge menu names the other questions too.
    own_text = console.get_by_test_id("question-text").filter(has_text=text)
    return console.get_by_test_id("console-question").filter(has=own_text)


def moderate(console: Page, text: str, testid: str, done: str) -> None:
    console_question(console, text).first.get_by_test_id(testid).click()
    expect(console.get_by_test_id("questions-console-status")).to_have_text(done)


def test_ten_phones_ask_and_upvote_moderator_approves_merges_and_pins(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    presenter = open_presenter(contexts(viewport=PROJECTOR, storage_state=moderator_storage))
    phones = [open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True)) for _ in range(10)]

    for phone, text in zip(phones, (KEPT, DUPLICATE, MRD, HOSTILE), strict=False):
        ask(phone, text)
    # Nobody else sees a pending question; the console sees all four.
    expect(phones[5].get_by_test_id("question")).to_have_count(0)
    expect(console.get_by_test_id("questions-pending").get_by_test_id("console-question")).to_have_count(4)
    for text in (KEPT, DUPLICATE, MRD):
        moderate(console, text, "question-approve", "Approved.")
    moderate(console, HOSTILE, "question-dismiss", "Dismissed.")
    expect(phones[3].get_by_test_id("question")).to_have_count(3)  # its own dismissed question is gone
    # Approving does not take over the room's screen; the moderator puts the questions up.
    expect(presenter.get_by_test_id("stage-questions")).to_be_hidden()
    console.get_by_test_id("screen-questions").click()
    expect(presenter.get_by_test_id("stage-questions")).to_be_visible()
    expect(presenter.get_by_test_id("stage-question")).to_have_count(3)
    expect(presenter.get_by_test_id("stage-pinned-question")).to_have_count(0)
    console.get_by_test_id("screen-join").click()
    expect(presenter.get_by_test_id("stage-questions")).to_be_hidden()

    # A phone about to ask the same thing is offered the existing question (CAR T kept whole).
    phones[9].get_by_test_id("question-input").fill("car t after bispecific antibodies")
    expect(phones[9].get_by_test_id("question-similar")).to_contain_text(KEPT)
    phones[9].get_by_test_id("question-input").fill("")

    for index in (2, 3, 4):
        upvote(phones[index], KEPT)
    for index in (4, 5, 6, 7):
        upvote(phones[index], DUPLICATE)
    for index in (8, 9):
        upvote(phones[index], MRD)
    expect(phone_question(phones[0], DUPLICATE).get_by_test_id("question-votes")).to_have_text("4")

    kept_id = console_question(console, KEPT).first.get_attribute("data-question")
    duplicate = console_question(console, DUPLICATE).first
    duplicate.get_by_test_id("question-merge-target").select_option(kept_id)
    # An upvote arriving while the moderator picks (the list re-renders) keeps the choice.
    upvote(phones[8], KEPT)
    expect(console_question(console, KEPT).first.get_by_test_id("question-votes")).to_have_text("4 votes")
    expect(duplicate.get_by_test_id("question-merge-target")).to_have_value(kept_id)
    duplicate.get_by_test_id("question-merge").click()
    expect(console.get_by_test_id("questions-console-status")).to_contain_text("Merged")
    moderate(console, MRD, "question-pin", "Pinned on the projector.")

    # Phone 4 upvoted both duplicates: counted once. Kept: phones 2-8 = 7 votes.
    for phone in phones:
        rows = phone.get_by_test_id("question-list").get_by_test_id("question")
        expect(rows).to_have_count(2)
        expect(rows.get_by_test_id("question-text")).to_have_text([MRD, KEPT])  # pinned first
        expect(rows.get_by_test_id("question-votes")).to_have_text(["2", "7"])
    expect(phone_question(phones[5], KEPT).get_by_test_id("question-upvote")).to_have_attribute("aria-pressed", "true")
    expect(phone_question(phones[1], KEPT).get_by_test_id("question-upvote")).to_have_attribute("aria-pressed", "false")
    expect(phone_question(phones[0], KEPT)).to_contain_text("Your question")

    # Pinning is presenting: the projector switches to the questions screen, and the console says so.
    expect(presenter.get_by_test_id("stage-questions")).to_be_visible()
    expect(console.get_by_test_id("screen-questions")).to_have_attribute("aria-pressed", "true")
    expect(presenter.get_by_test_id("stage-pinned-question")).to_contain_text(MRD)
    expect(presenter.get_by_test_id("stage-pinned-question").get_by_test_id("question-votes")).to_have_text("2 votes")
    expect(presenter.get_by_test_id("stage-question").get_by_test_id("question-text")).to_have_text([KEPT])
    expect(presenter.get_by_test_id("stage-question").get_by_test_id("question-votes")).to_have_text(["7 votes"])

    assert text_outside(presenter) == []

    assert_no_violations(phones[5], "participant with questions")
    assert_no_violations(presenter, "presenter with a pinned question")
    assert_no_violations(console, "moderator with questions")


TRACK_SOCKETS = """
window.__sockets = [];
window.WebSocket = class extends window.WebSocket {
  constructor(...args) { super(...args); window.__sockets.push(this); }
};
"""


def test_a_question_being_written_or_sent_survives_a_reload_and_is_asked_once(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    phone_context = contexts(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = open_phone(phone_context)

    # A draft survives a reload (the phone locked, the page was reloaded).
    phone.get_by_test_id("question-input").fill(MRD)
    phone.reload()
    expect(phone.get_by_test_id("question-input")).to_have_value(MRD)

    # Sent while the connection was gone, then the page reloaded before any answer: it goes out
    # again with its ref when the page connects, and the moderator gets it once.
    phone_context.add_init_script(TRACK_SOCKETS)
    phone.reload()
    expect(phone.get_by_test_id("connection-status")).to_have_text("Live")
    phone.evaluate("window.__sockets.forEach((socket) => socket.close())")
    phone.route("**/ask", lambda route: route.abort())  # the HTTP fallback is down too
    phone.get_by_test_id("question-submit").click()
    phone.unroute("**/ask")
    # Whether the reconnecting socket sent it before the reload or the reloaded page resends it
    # (the socket reconnects on its own: which comes first is a race), the moderator gets it once.
    phone.reload()
    expect(phone.get_by_test_id("question-input")).to_have_value("")
    expect(console_question(console, MRD)).to_have_count(1)
    phone.wait_for_function(f"() => localStorage.getItem('caseboard:ask:{CODE}') === null")
    assert phone.evaluate(f"localStorage.getItem('caseboard:ask-draft:{CODE}')") is None
