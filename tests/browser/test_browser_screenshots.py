"""The three screens in a realistic state, captured for the README.

Runs with the other browser tests (into a temporary directory) so the layout checks below hold
on every run; CASEBOARD_SCREENSHOTS=1 writes docs/screenshots/*.png instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import ROOT
from tests.browser.pages import (
    CODE,
    DESKTOP,
    PHONE,
    PROJECTOR,
    close_poll,
    command,
    open_console,
    open_phone,
    open_poll,
    open_presenter,
    poll_id,
    result_percent,
    reveal_results,
    vote,
)
from tests.frames import answer_only

pytestmark = pytest.mark.browser

CAR_T = "Refer for CAR T"
BISPECIFIC = "Bispecific on a clinical trial"


def vote_over_http(context: BrowserContext, label: str, ref: str) -> None:
    """A participant that uses the plain-HTTP fallback: join, read the state, POST a vote."""
    assert context.request.get(f"/e/{CODE}/").ok
    state = context.request.get(f"/e/{CODE}/state.json").json()
    option = next(o["id"] for o in state["poll"]["options"] if o["label"] == label)
    token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    reply = context.request.post(
        f"/e/{CODE}/vote",
        data={"type": "vote", "ref": ref, "poll": state["poll"]["id"], "options": [option]},
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    assert answer_only(reply.json()) == {"type": "ack", "ref": ref, "poll": state["poll"]["id"], "options": [option]}


def output_dir(tmp_path: Path) -> Path:
    if os.environ.get("CASEBOARD_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path


def test_screens_render_without_overflow_and_are_captured(demo, contexts, moderator_storage, tmp_path):
    out = output_dir(tmp_path)
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    presenter = open_presenter(contexts(viewport=PROJECTOR, storage_state=moderator_storage))
    phone = open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2))
    poll = poll_id(console)
    open_poll(console, poll)

    vote(phone, CAR_T)
    for index in range(9):
        vote_over_http(contexts(), CAR_T if index < 6 else BISPECIFIC, ref=f"shot-{index}")
    expect(console.get_by_test_id(f"poll-count-{poll}")).to_have_text("10 responses")
    close_poll(console, poll)
    reveal_results(console, poll)
    point = console.get_by_test_id("agenda-point").first.get_attribute("data-teaching-point-id")
    command(console, f"reveal-tp-{point}")

    for page in (presenter, phone):
        expect(result_percent(page, CAR_T)).to_have_text("70% (7)")
        expect(page.get_by_test_id("teaching-point")).to_have_count(1)
    expect(console.get_by_test_id(f"tp-state-{point}")).to_have_text("Shown")

    # Nothing may stick out sideways on a 360 px phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert presenter.evaluate("document.documentElement.scrollWidth") <= PROJECTOR["width"]

    # Revealing the teaching point put it on the projector: the README shows the results there.
    command(console, "screen-poll")
    expect(presenter.get_by_test_id("stage")).to_have_attribute("data-screen", "poll")
    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=out / "participant.png", full_page=True, clip={"x": 0, "y": 0, "width": 360, "height": 1000})
    phone.screenshot(path=tmp_path / "participant-full.png", full_page=True)
    presenter.screenshot(path=out / "presenter.png")
    console.evaluate("window.scrollTo(0, 0)")
    console.screenshot(path=out / "moderator.png")
    console.screenshot(path=tmp_path / "moderator-full.png", full_page=True)
    print(f"screenshots in {out}")


STEPS_DIR = "steps"


def test_each_step_of_the_demo_is_captured_on_every_screen(demo, contexts, moderator_storage, tmp_path):
    """`make screenshots` keeps these in docs/screenshots/steps/: the projector in both themes,
    the console and a phone at each step of the demo."""
    from tests.browser.console_helpers import phones
    from tests.browser.live_moderator import Moderator
    from tests.browser.stage_checks import text_outside

    out = output_dir(tmp_path) / STEPS_DIR
    out.mkdir(parents=True, exist_ok=True)
    moderator = Moderator(demo, moderator_storage)
    console = open_console(contexts(viewport={"width": 1440, "height": 900}, storage_state=moderator_storage))
    projectors = {}
    for theme in ("light", "dark"):
        page = contexts(viewport=PROJECTOR, storage_state=moderator_storage).new_page()
        page.goto(f"/e/{CODE}/present/?theme={theme}")
        expect(page.locator("body")).to_have_attribute("data-theme", theme)
        projectors[theme] = page
    phone = open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2))
    others = phones(demo.url, 9)
    shots = []

    def capture(name: str, screen: str) -> None:
        for theme, page in projectors.items():
            expect(page.get_by_test_id("stage")).to_have_attribute("data-screen", screen)
            assert text_outside(page) == [], name
            page.screenshot(path=out / f"{len(shots) + 1:02d}-{name}-projector-{theme}.png")
        expect(console.get_by_test_id("now-screen")).not_to_have_text("Loading…")
        console.evaluate("window.scrollTo(0, 0)")
        console.screenshot(path=out / f"{len(shots) + 1:02d}-{name}-console.png")
        phone.evaluate("window.scrollTo(0, 0)")
        phone.screenshot(path=out / f"{len(shots) + 1:02d}-{name}-phone.png")
        shots.append(name)

    capture("join", "join")
    state = moderator.state()
    case = state["agenda"][0]
    moderator.command("show_case", case=case["id"])
    capture("case", "case")

    single = moderator.poll("single")
    options = [o["id"] for o in single["options"]]
    moderator.open(single["id"])
    expect(phone.get_by_test_id("option").first).to_be_enabled()
    vote(phone, CAR_T)
    for index, other in enumerate(others):
        other.vote(single["id"], options=[options[0] if index < 6 else options[1]])
    expect(console.get_by_test_id(f"poll-count-{single['id']}")).to_have_text("10 responses")
    capture("poll-open", "poll")

    moderator.close(single["id"])
    moderator.command("reveal_results", poll=single["id"])
    moderator.command("reveal_preferred", poll=single["id"])
    expect(result_percent(projectors["light"], CAR_T)).to_have_text("70% (7)")
    capture("results", "poll")

    moderator.command("reveal_teaching_point", teaching_point=case["teaching_points"][1]["id"])
    capture("teaching-point", "teaching")

    second = moderator.command("new_round", poll=single["id"])["copy"]
    again = [o["id"] for o in next(p for p in moderator.polls() if p["id"] == second)["options"]]
    moderator.open(second)
    vote(phone, CAR_T)
    for index, other in enumerate(others):
        other.vote(second, options=[again[0] if index < 8 else again[2]])
    moderator.close(second)
    moderator.command("reveal_results", poll=second)
    expect(projectors["light"].get_by_test_id("comparisons")).to_be_visible()
    capture("rounds", "poll")

    # Audience questions: three from the room, upvoted, one pinned: the projector's questions screen.
    asked = [
        others[0].send({"type": "ask", "ref": "s1", "text": "Would MRD status change whether you refer for CAR T?"}),
        others[1].send({"type": "ask", "ref": "s2", "text": "How long does CAR T manufacturing take at your centre?"}),
        others[2].send({"type": "ask", "ref": "s3", "text": "Bridging therapy before cilta-cel: what do you use?"}),
    ]
    for item in asked:
        moderator.command("approve_question", question=item["question"])
    for index, other in enumerate(others):
        for n, item in enumerate(asked[: 1 + index % 3]):
            other.send({"type": "upvote", "ref": f"s-up-{n}", "question": item["question"]})
    moderator.command("pin_question", question=asked[0]["question"])
    expect(projectors["light"].get_by_test_id("stage-question")).to_have_count(2)
    capture("questions", "questions")

    moderator.command("end_event")
    capture("ended", "ended")
    print(f"{len(shots)} steps captured in {out}")
