"""The authoring workspace end to end (issue 16): a moderator writes a new case with three polls
of different kinds and an image, previews it, adds it to a new event, runs it from the console,
and the phone and the projector show it. axe finds nothing on the workspace's pages."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.pages import DESKTOP, PHONE, PROJECTOR, expect_live
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser

TITLE = "Smouldering myeloma turned active"


def png_file(tmp_path) -> str:
    path = tmp_path / "pet.png"
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 90, 40)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def save(page: Page, testid: str, root=None) -> None:
    (root or page).get_by_test_id(testid).click()
    page.wait_for_load_state()
    errors = page.locator(".form-error").all_inner_texts()
    assert not errors, errors
    expect(page.get_by_test_id("messages")).to_contain_text("is saved")


def new_poll(page: Page):
    return page.get_by_test_id("new-poll-form")


def test_a_case_is_authored_previewed_added_to_an_event_and_run(server, contexts, moderator_storage, tmp_path):
    context = contexts(viewport=DESKTOP, storage_state=moderator_storage)
    page = context.new_page()
    page.goto("/author/")
    expect(page.get_by_role("heading", name="Authoring workspace")).to_be_visible()
    assert_no_violations(page, "workspace home")

    # ---------------------------------------------------------------- the case, with an image
    page.get_by_role("link", name="New case").click()
    form = page.get_by_test_id("case-fields")
    form.get_by_label("Title", exact=True).fill(TITLE)
    form.get_by_label("Disease", exact=True).fill("Multiple myeloma")
    form.get_by_label("Diagnosis", exact=True).fill("IgA-kappa multiple myeloma")
    form.get_by_label("Patient age").fill("63")
    form.get_by_label("Patient sex").select_option("male")
    form.get_by_label("ECOG performance status").fill("1")
    form.get_by_label("Clinical question").fill("Treat now or observe?")
    lines = page.get_by_test_id("part-therapy_lines")
    lines.get_by_label("Regimen").fill("Observation")
    lines.get_by_role("button", name="Add line of therapy").click()
    lines.get_by_label("Regimen").nth(1).fill("DaraVRd")
    # The second line is moved first, by keyboard: the server numbers them in that order.
    lines.get_by_role("button", name="Move up").nth(1).press("Enter")
    images = page.get_by_test_id("part-images")
    images.get_by_label("Image file").set_input_files(png_file(tmp_path))
    images.get_by_label("Caption").fill("PET-CT at diagnosis")
    images.get_by_label("Description for screen readers").fill("An orange square standing in for a PET-CT slice")
    images.get_by_label("No name, date, record number or face can be seen in the image").check()
    save(page, "save-case")
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    lines = page.get_by_test_id("part-therapy_lines")
    expect(lines.get_by_label("Regimen").first).to_have_value("DaraVRd")

    # ---------------------------------------------------------------- three polls of three kinds
    poll = new_poll(page)
    poll.get_by_label("Question").fill("Start therapy now?")
    expect(poll.get_by_label("Numeric min")).to_be_hidden()  # only the chosen kind's fields
    poll.get_by_label("Label").nth(0).fill("Treat now")
    poll.get_by_label("Label").nth(1).fill("Observe")
    poll.get_by_role("button", name="Add option").click()
    poll.get_by_label("Label").nth(2).fill("Clinical trial")
    poll.get_by_role("button", name="Move up").nth(2).click()  # options reorder: Treat now, Clinical trial, Observe
    save(page, "save-poll", poll)

    poll = new_poll(page)
    poll.get_by_label("Question").fill("How many months until progression without therapy?")
    poll.get_by_label("Kind").select_option("numeric")
    expect(poll.get_by_text("Options, in the order phones show them")).to_be_hidden()
    poll.get_by_label("Numeric min").fill("0")
    poll.get_by_label("Numeric max").fill("60")
    poll.get_by_label("Numeric unit").fill("months")
    save(page, "save-poll", poll)

    poll = new_poll(page)
    poll.get_by_label("Question").fill("How confident are you in treating now?")
    poll.get_by_label("Kind").select_option("likert")
    poll.get_by_label("Scale from").fill("1")
    poll.get_by_label("Scale to").fill("5")
    save(page, "save-poll", poll)
    expect(page.get_by_test_id("poll-form")).to_have_count(3)

    # ---------------------------------------------------------------- the preview
    preview = page.get_by_test_id("preview")
    phone_preview = preview.get_by_test_id("preview-phone")
    expect(phone_preview.get_by_test_id("case-title")).to_have_text(TITLE)
    picture = phone_preview.get_by_role("img", name="An orange square standing in for a PET-CT slice")
    picture.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth === 640", arg=picture.element_handle())
    preview.get_by_label("Poll on screen").select_option(label="Start therapy now?")
    ballot = phone_preview.get_by_test_id("preview-ballot")
    expect(ballot.get_by_test_id("option")).to_have_text([re.compile("Treat now"), re.compile("Clinical trial"),
                                                         re.compile("Observe")])  # fmt: skip
    stage = preview.get_by_test_id("preview-stage")
    expect(stage).to_contain_text("Start therapy now?")
    expect(stage.locator(".stage-option")).to_have_count(3)
    preview.get_by_label("Poll on screen").select_option(label="How many months until progression without therapy?")
    expect(stage.get_by_test_id("stage-hint")).to_have_text("Answer with a number from 0 to 60 months on your phone.")
    # A poll being written is previewed as it is typed, before it is saved.
    poll = new_poll(page)
    poll.get_by_label("Question").fill("Which trial would you offer?")
    poll.get_by_label("Label").nth(0).fill("Immunotherapy trial")
    expect(preview.get_by_test_id("preview-draft")).to_be_visible()
    expect(stage).to_contain_text("Which trial would you offer?")
    expect(ballot.get_by_test_id("option")).to_have_text([re.compile("Immunotherapy trial")])
    assert_no_violations(page, "case builder")
    builder = page.url

    # ---------------------------------------------------------------- a new event, the case added
    page.goto("/author/events/new/")
    assert_no_violations(page, "new event")
    page.get_by_label("Title").fill("Smouldering myeloma roundtable")
    page.get_by_test_id("create-event").click()
    expect(page.get_by_role("heading", name="Smouldering myeloma roundtable")).to_be_visible()
    code = page.get_by_test_id("event-code").inner_text()
    page.goto(builder)
    page.get_by_label("Event", exact=True).select_option(label=f"Smouldering myeloma roundtable ({code})")
    page.get_by_test_id("add-to-event").click()
    expect(page.get_by_test_id("messages")).to_contain_text(f"on the agenda of {code}")
    expect(page.get_by_test_id("agenda")).to_contain_text(TITLE)
    assert_no_violations(page, "event")
    presenter_url = page.get_by_test_id("presenter-link").get_attribute("href")

    # ---------------------------------------------------------------- run it
    page.get_by_test_id("console-link").click()
    console = page
    expect_live(console)
    phone = contexts(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"/e/{code}/")
    expect_live(phone)
    presenter = contexts(viewport=PROJECTOR, storage_state=moderator_storage).new_page()
    presenter.goto(presenter_url)
    expect_live(presenter)

    entry = console.get_by_test_id("agenda-poll").filter(has_text="Start therapy now?")
    poll_id = entry.get_attribute("data-poll-id")
    console.get_by_test_id(f"open-poll-{poll_id}").click()
    expect(console.get_by_test_id(f"poll-state-{poll_id}")).to_have_text("Poll open")
    expect(phone.get_by_test_id("poll-question")).to_have_text("Start therapy now?")
    expect(phone.get_by_test_id("option")).to_have_count(3)
    expect(presenter.get_by_test_id("poll-question")).to_have_text("Start therapy now?")
    phone.get_by_role("button", name="Clinical trial", exact=True).click()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    expect(console.get_by_test_id(f"poll-count-{poll_id}")).to_have_text("1 response")
    # The case, with its image, on the phone and the projector.
    console.get_by_test_id(f"close-poll-{poll_id}").click()
    expect(console.get_by_test_id(f"poll-state-{poll_id}")).to_have_text("Poll closed")
    for screen in (phone, presenter):
        expect(screen.get_by_test_id("case-title")).to_have_text(TITLE)

    # ---------------------------------------------------------------- a quick poll from the console
    console.get_by_test_id("quick-preset-text").click()
    console.get_by_test_id("quick-question").fill("One word: what tipped your decision?")
    console.get_by_test_id("quick-add").click()
    expect(console.get_by_test_id("console-notice")).to_contain_text("quick poll was added")
    quick = console.get_by_test_id("agenda-poll").filter(has_text="One word: what tipped your decision?")
    expect(quick).to_have_count(1)
    quick_id = quick.get_attribute("data-poll-id")
    console.get_by_test_id(f"open-poll-{quick_id}").click()
    expect(phone.get_by_test_id("poll-question")).to_have_text("One word: what tipped your decision?")
    expect(presenter.get_by_test_id("poll-question")).to_have_text("One word: what tipped your decision?")


def test_rows_are_reordered_by_drag(server, contexts, moderator_storage):
    page = contexts(viewport=DESKTOP, storage_state=moderator_storage).new_page()
    page.goto("/author/cases/new/")
    lines = page.get_by_test_id("part-therapy_lines")
    lines.get_by_label("Regimen").fill("First written")
    lines.get_by_role("button", name="Add line of therapy").click()
    lines.get_by_label("Regimen").nth(1).fill("Second written")
    handles = lines.get_by_role("button", name="Drag to reorder line of therapy")
    handles.nth(1).drag_to(lines.locator("[data-row]").first, target_position={"x": 10, "y": 5})
    expect(lines.get_by_label("Regimen").first).to_have_value("Second written")
    # The page numbers the rows in their new order; the server reads only that order.
    orders = lines.locator('input[name$="-ORDER"]')
    expect(orders).to_have_count(2)
    assert [orders.nth(i).input_value() for i in range(2)] == ["1", "2"]
    assert lines.locator('input[name$="-regimen"]').first.get_attribute("name") == "therapy_lines-1-regimen"


FLAG_FACT = (
    "from cases.models import CaseFact; from polls.models import Event; "
    "case = Event.objects.get(code='CASE2').cases.get(); "
    "CaseFact.objects.filter(case=case, label='Contact').delete(); "
    "{action}"
)


def test_a_go_live_refused_for_flagged_text_links_to_the_case_findings(demo, contexts, moderator_storage):
    """Text written past the forms (here straight into the database) stops the event going live:
    the console says where and what kind, links the case's page at its findings, where the
    moderator acknowledges it; then the event starts."""
    add = "CaseFact.objects.create(case=case, position=99, label='Contact', text='Son on 717-555-0143')"
    demo.manage("shell", "-c", FLAG_FACT.format(action=add))
    try:
        console = contexts(viewport=DESKTOP, storage_state=moderator_storage).new_page()
        console.goto("/e/CASE2/moderate/")
        expect_live(console)
        console.get_by_test_id("start-event").click()
        error = console.get_by_test_id("console-errors")
        expect(error).to_contain_text("may identify a patient")
        expect(error).to_contain_text("(a telephone or fax number)")
        expect(error).not_to_contain_text("717")
        assert_no_violations(console, "console with the guard's refusal")
        link = error.get_by_test_id("finding-links").get_by_role("link")
        expect(link).to_have_count(1)
        href = link.get_attribute("href")
        assert re.fullmatch(r"/author/cases/\d+/#findings", href), href

        page = contexts(viewport=DESKTOP, storage_state=moderator_storage).new_page()
        page.goto(href)
        findings = page.get_by_test_id("findings")
        expect(findings).to_contain_text("Case fact 99: text")
        page.get_by_test_id("identifiers").get_by_label("I have checked the flagged text").check()
        save(page, "save-case")
        expect(page.get_by_test_id("findings")).to_have_count(0)

        console.get_by_test_id("start-event").click()
        expect(console.get_by_test_id("event-status")).to_have_text(re.compile("Live", re.I))
    finally:
        demo.manage("shell", "-c", FLAG_FACT.format(action="None"))
