"""Optional profile questions at join, and the faculty panel's own view."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.console_helpers import option_ids, phones
from tests.browser.live_moderator import Moderator, shell
from tests.browser.pages import CODE, DESKTOP, PHONE, close_poll, open_console, open_phone, open_poll, poll_id
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser

PROFILES = """
import json
from polls.models import Participant
print(json.dumps([p.profile for p in Participant.objects.filter(event__code="CASE2", is_panelist=False)]))
"""
MAKE_PANELIST = """
from django.contrib.auth import get_user_model
from polls.models import Event
Event.objects.get(code="CASE2").panelists.add(get_user_model().objects.get(username="moderator"))
print("ok")
"""


@pytest.fixture
def moderator(demo, moderator_storage) -> Moderator:
    return Moderator(demo, moderator_storage)


def phone_page(contexts) -> Page:
    return open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True))


def stored_outcome(phone: Page) -> str | None:
    return phone.evaluate(f"localStorage.getItem('caseboard:profile:{CODE}')")


def test_profile_form_is_optional_and_saves_once(demo, moderator, contexts):
    phone = phone_page(contexts)
    form = phone.get_by_test_id("profile")
    expect(form).to_be_visible()
    expect(form.get_by_role("heading")).to_have_text("About you (optional)")
    expect(form.get_by_role("combobox")).to_have_count(3)
    assert_no_violations(phone, "participant with the profile form")

    # The form never stands between a person and the poll.
    single = moderator.polls()[0]
    moderator.open(single["id"])
    phone.get_by_role("button", name="Refer for CAR T", exact=True).click()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    expect(form).to_be_visible()

    phone.get_by_label("Specialty").select_option("Hematology")
    phone.get_by_label("Practice setting").select_option("Community practice")
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_test_id("profile-thanks")).to_have_text("Thank you: your answers are saved.")
    expect(phone.get_by_test_id("profile-thanks")).to_be_focused()
    assert json.loads(shell(demo, PROFILES)) == [{"specialty": "Hematology", "setting": "Community practice"}]
    assert stored_outcome(phone) == "answered"

    phone.reload()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    # After a reload the phone shows what it answered (from the server), not the form again.
    expect(form.get_by_test_id("profile-form")).to_have_count(0)
    expect(form.get_by_test_id("profile-answer-specialty")).to_have_text("Hematology")


def test_profile_form_can_be_skipped(demo, contexts):
    phone = phone_page(contexts)
    expect(phone.get_by_test_id("profile")).to_be_visible()
    phone.get_by_role("button", name="Skip").click()
    expect(phone.get_by_test_id("profile")).to_be_hidden()
    expect(phone.locator("#main")).to_be_focused()  # focus does not vanish with the form
    assert stored_outcome(phone) == "skipped"
    assert json.loads(shell(demo, PROFILES)) == [{}]

    phone.reload()
    expect(phone.get_by_test_id("waiting")).to_contain_text("Waiting for the moderator")
    expect(phone.get_by_test_id("profile")).to_be_hidden()


def test_panelist_votes_from_the_faculty_panel_view(demo, moderator, moderator_storage, contexts):
    shell(demo, MAKE_PANELIST)
    panel = contexts(viewport=PHONE, is_mobile=True, has_touch=True, storage_state=moderator_storage).new_page()
    panel.goto(f"/e/{CODE}/panel/")
    expect(panel.get_by_test_id("connection-status")).to_have_text("Live")
    expect(panel.get_by_test_id("panel-banner")).to_contain_text("Faculty panel view")
    expect(panel).to_have_title(re.compile(r"^Faculty panel · "))
    expect(panel.get_by_test_id("profile")).to_have_count(0)
    config = json.loads(panel.locator("#caseboard-config").text_content())
    assert config["role"] == "panelist" and "state_url" not in config

    likert = moderator.poll("likert")
    moderator.open(likert["id"])
    expect(panel.get_by_test_id("poll-state")).to_have_text("Poll open")
    panel.get_by_label("Somewhat likely").check()
    panel.get_by_test_id("ballot-submit").click()
    expect(panel.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    assert_no_violations(panel, "faculty panel")

    tally = moderator.results(likert["id"])
    assert tally["total"] == 0  # panel ballots never count as the audience's
    assert tally["panel"]["total"] == 1


def segment_total(console: Page, segment: str) -> Locator:
    return console.get_by_test_id("console-segments").locator(f'[data-testid="segment"][data-segment="{segment}"]')


def test_phone_shows_its_profile_answers_after_a_reload_and_an_edit_moves_the_segments(
    demo, moderator_storage, contexts
):
    # Ten other phones (5 and 5) so that each setting is a group of at least the event's 5.
    room = phones(demo.url, 10)
    for index, other in enumerate(room):
        other.profile(setting="Academic centre" if index < 5 else "Community practice")
    phone = phone_page(contexts)
    phone.get_by_label("Practice setting").select_option("Community practice")
    phone.get_by_label("Years in practice").select_option("5 to 10")
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_test_id("profile-thanks")).to_have_text("Thank you: your answers are saved.")

    # Forget the phone's own memory of it: the answers shown come from the server.
    phone.evaluate(f"localStorage.removeItem('caseboard:profile:{CODE}')")
    phone.reload()
    section = phone.get_by_test_id("profile")
    expect(section.get_by_test_id("profile-answer-setting")).to_have_text("Community practice")
    expect(section.get_by_test_id("profile-answer-experience")).to_have_text("5 to 10")
    expect(section.get_by_test_id("profile-answer-specialty")).to_have_text("Not stated")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_no_violations(phone, "phone showing its profile answers")

    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    first = poll_id(console)
    options = option_ids(console, first)
    open_poll(console, first)
    for other in room:
        other.vote(first, options=[options[0]])
    phone.get_by_role("button", name="Refer for CAR T", exact=True).click()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    close_poll(console, first)
    console.get_by_test_id("segment-select").select_option(label="Practice setting")
    expect(segment_total(console, "Academic centre")).to_contain_text("5 responses")
    expect(segment_total(console, "Community practice")).to_contain_text("6 responses")

    # Edit one answer: the form comes back filled in, and saving shows the new answers.
    section.get_by_test_id("profile-edit").click()
    expect(phone.get_by_label("Years in practice")).to_have_value("5 to 10")
    expect(phone.get_by_label("Specialty")).to_be_focused()  # the first question
    assert_no_violations(phone, "phone editing its profile answers")
    phone.get_by_label("Practice setting").select_option("Academic centre")
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_test_id("profile-thanks")).to_be_focused()
    expect(section.get_by_test_id("profile-answer-setting")).to_have_text("Academic centre")
    expect(section.get_by_test_id("profile-answer-experience")).to_have_text("5 to 10")
    profiles = json.loads(shell(demo, PROFILES))
    assert {"setting": "Academic centre", "experience": "5 to 10"} in profiles

    # The next poll splits the room by the edited answer; the closed one keeps its counts.
    likert = int(console.locator('[data-testid="agenda-poll"][data-kind="likert"]').get_attribute("data-poll-id"))
    scale = option_ids(console, likert)
    open_poll(console, likert)
    for other in room:
        other.vote(likert, options=[scale[4]])
    phone.get_by_label("Somewhat likely").check()
    phone.get_by_test_id("ballot-submit").click()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    close_poll(console, likert)
    expect(segment_total(console, "Academic centre")).to_contain_text("6 responses")
    expect(segment_total(console, "Community practice")).to_contain_text("5 responses")
