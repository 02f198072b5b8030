"""The projector through the whole demo: one focus at a time, fitted to 1920×1080, 1280×720 and a
4:3 projector (1024×768) without scrolling or clipping, the case readable at the back of a hall."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.console_helpers import phones
from tests.browser.live_moderator import Moderator
from tests.browser.pages import open_presenter
from tests.browser.stage_checks import case_body_font_sizes, text_outside
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser

SCREENS = {"1080p": (1920, 1080), "720p": (1280, 720), "4:3": (1024, 768)}
FREE_TEXT = [
    "Distance to the CAR T centre and caregiver support for the first weeks",
    "Manufacturing slots",
    "https://example.org/" + "a-very-long-unbroken-link" * 4,
    "Payer approval delays",
]


class Demo:
    """The moderator (over the protocol), ten phones, and a projector per screen size."""

    def __init__(self, server, storage, contexts) -> None:
        self.moderator = Moderator(server, storage)
        self.phones = phones(server.url, 10)
        self.projectors = {
            name: open_presenter(contexts(viewport={"width": w, "height": h}, storage_state=storage))
            for name, (w, h) in SCREENS.items()
        }
        self.steps: list[str] = []
        self.paged: list[str] = []  # steps a projector showed in pages
        shots = os.environ.get("CASEBOARD_STAGE_SHOTS")
        self.shots = Path(shots) if shots else None

    def poll(self, kind: str, round_: int = 1) -> dict:
        return next(p for p in self.moderator.polls() if p["kind"] == kind and p["round"] == round_)

    def check(self, step: str, screen: str, *, testid: str | None = None) -> None:
        """Every projector shows `screen` (and `testid`, if given) with all its text in view."""
        self.steps.append(step)
        for name, page in self.projectors.items():
            expect(page.get_by_test_id("stage")).to_have_attribute("data-screen", screen)
            if testid:
                # Shown, or on a later page of a focus this screen had to split (it then says so).
                either = f'[data-testid="{testid}"]:visible, [data-testid="stage-page"]:visible'
                expect(page.locator(either).first).to_be_visible()
                if page.get_by_test_id("stage-page").is_visible():
                    self.paged.append(f"{step} on {name}")
                    expect(page.get_by_test_id(testid).first).to_be_attached()
            page.wait_for_function("() => document.fonts.status === 'loaded'")
            if self.shots:
                slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
                page.screenshot(path=self.shots / f"{len(self.steps):02d}-{slug}-{name.replace(':', 'x')}.png")
            assert text_outside(page) == [], f"{step} on {name}"

    def ballot_round(self, poll: dict, ballots: list[dict]) -> None:
        self.moderator.open(poll["id"])
        for phone, ballot in zip(self.phones, ballots, strict=False):
            phone.vote(poll["id"], **ballot)
        self.check(f"{poll['kind']} open with votes", "poll", testid="poll-options")
        self.moderator.close(poll["id"])
        self.moderator.command("reveal_results", poll=poll["id"])


@pytest.fixture
def run(demo, contexts, moderator_storage):
    return Demo(demo, moderator_storage, contexts)


def test_the_projector_fits_every_step_of_the_demo_on_every_screen(run: Demo):
    run.check("before the event", "join", testid="qr")
    state = run.moderator.state()
    case = state["agenda"][0]
    for phone, answers in zip(
        run.phones, [{"specialty": "Hematology", "setting": "Academic centre"}] * 10, strict=False
    ):
        phone.profile(**answers)

    run.moderator.command("show_case", case=case["id"])
    run.check("the case", "case", testid="case-title")
    sizes = case_body_font_sizes(run.projectors["1080p"])
    assert sizes and min(sizes) >= 28, sizes
    run.moderator.command("reveal_fact", fact=case["facts"][0]["id"])
    expect(run.projectors["1080p"].get_by_test_id("case-fact")).to_contain_text("90 minutes")
    run.check("the case with a revealed finding", "case")
    assert min(case_body_font_sizes(run.projectors["1080p"])) >= 28

    single = run.poll("single")
    options = [o["id"] for o in single["options"]]
    run.moderator.command("show_screen", screen="poll", poll=single["id"])
    run.check("a poll before it opens", "poll", testid="poll-options")
    run.ballot_round(single, [{"options": [options[0]]}] * 7 + [{"options": [options[1]]}] * 3)
    run.check("single-choice results", "poll", testid="results-list")
    run.moderator.command("reveal_preferred", poll=single["id"])
    for page in run.projectors.values():
        expect(page.get_by_test_id("preferred-note")).to_contain_text("IMWG guidance (2025)")
    run.check("results with the preferred answer and its rationale", "poll", testid="concordance-preferred")
    assert_no_violations(run.projectors["1080p"], "light projector with the preferred answer")

    run.moderator.command("show_segments", attribute="specialty")
    run.check("results split by profile", "poll", testid="segments")
    run.moderator.command("show_segments", attribute=None)

    for point in case["teaching_points"]:
        run.moderator.command("reveal_teaching_point", teaching_point=point["id"])
        run.check(f"teaching point {point['title']}", "teaching", testid="teaching-point")

    # The rest of the demo in the dark theme, for a dark room: it fits and passes axe too.
    run.moderator.command("set_theme", theme="dark")
    for page in run.projectors.values():
        expect(page.locator("body")).to_have_attribute("data-theme", "dark")
    run.check("a teaching point, dark", "teaching", testid="teaching-point")
    assert_no_violations(run.projectors["1080p"], "dark projector with a teaching point")

    second = run.moderator.command("new_round", poll=single["id"])["copy"]
    round_two = next(p for p in run.moderator.polls() if p["id"] == second)
    again = [o["id"] for o in round_two["options"]]
    run.ballot_round(round_two, [{"options": [again[0]]}] * 9 + [{"options": [again[2]]}])
    run.check("rounds compared, with the changes of mind", "poll", testid="comparisons")
    assert_no_violations(run.projectors["1080p"], "dark projector with rounds compared")

    likert = run.poll("likert")
    points = [o["id"] for o in likert["options"]]
    run.ballot_round(likert, [{"options": [points[i % 5]]} for i in range(10)])
    run.check("a rating scale", "poll", testid="scale-caption")
    assert_no_violations(run.projectors["1080p"], "dark projector with a rating scale")

    numeric = run.poll("numeric")
    run.ballot_round(numeric, [{"value": v} for v in (0, 2, 3, 3, 6, 6, 6, 9, 12, 24)])
    run.check("a histogram", "poll", testid="numeric-median")
    assert_no_violations(run.projectors["1080p"], "dark projector with a histogram")

    ranking = run.poll("ranking")
    order = [o["id"] for o in ranking["options"]]
    run.ballot_round(ranking, [{"options": order if i % 2 else order[::-1]} for i in range(10)])
    run.check("a ranking", "poll", testid="ranking-row")
    assert_no_violations(run.projectors["1080p"], "dark projector with a ranking")

    text = run.poll("text")
    run.ballot_round(text, [{"text": t} for t in FREE_TEXT])
    for answer in run.moderator.results(text["id"])["answers"]:
        run.moderator.command("approve_answer", answer=answer["id"])
    run.check("free-text answers, approved", "poll", testid="answer")
    for page in run.projectors.values():
        page.get_by_test_id("text-view-cloud").click()
    run.check("free-text answers as a word cloud", "poll", testid="cloud-word")
    assert_no_violations(run.projectors["1080p"], "dark projector with a word cloud")

    run.moderator.command("show_screen", screen="blank")
    run.check("blank", "blank")
    run.moderator.command("show_screen", screen="join")
    run.check("the join screen brought back", "join", testid="qr")
    run.moderator.command("show_screen", screen="poll")
    run.check("back to the poll", "poll")

    # A 1080p projector shows every step of the demo whole; smaller ones may split the densest
    # (results with their rationale and a profile split) into pages rather than shrink them unreadably.
    assert not [p for p in run.paged if p.endswith("on 1080p")], run.paged

    run.moderator.command("end_event")
    run.check("after the event", "ended", testid="waiting-text")
    assert_no_violations(run.projectors["1080p"], "dark projector after the event")
    for page in run.projectors.values():
        expect(page.get_by_test_id("waiting-text")).to_have_text("This event has ended.")
        expect(page.get_by_test_id("poll")).to_be_hidden()
        expect(page.get_by_test_id("connection-status")).to_have_text("Event ended")


def test_the_case_fills_a_1080p_projector_in_large_type(run: Demo):
    page: Page = run.projectors["1080p"]
    run.moderator.command("show_case", case=run.moderator.state()["agenda"][0]["id"])
    run.check("the case", "case", testid="case-title")
    assert min(case_body_font_sizes(page)) >= 28
    # Not a small card in a corner: the case uses most of the stage's height or width.
    card = page.get_by_test_id("case-body").bounding_box()
    assert card["width"] > 0.8 * 1920 or card["height"] > 0.6 * 1080, card


def test_a_clicker_on_the_projector_walks_the_agenda_and_blanks_the_screen(run: Demo):
    page = run.projectors["720p"]
    first = run.moderator.polls()[0]
    page.keyboard.press("PageDown")
    run.check("clicker: next from the join screen", "case", testid="case-title")
    page.keyboard.press("ArrowRight")
    run.check("clicker: next is the first poll", "poll", testid="poll-options")
    expect(page.get_by_test_id("poll-question")).to_have_text(first["question"])
    expect(page.get_by_test_id("poll-state")).to_have_text("Not open yet")
    page.keyboard.press("b")
    run.check("clicker: blank", "blank")
    page.keyboard.press(".")
    run.check("clicker: unblank", "poll")
    page.keyboard.press("PageUp")
    run.check("clicker: back", "case")


LONG_CASE = """
from cases.models import Case, HistoryItem
from polls.models import AgendaItem, Event
event = Event.objects.get(code="CASE2")
case = Case.objects.create(
    title="A long case", disease="Multiple myeloma", patient_age=70, patient_sex="male",
    diagnosis="IgG-kappa multiple myeloma", years_since_diagnosis=9, ecog=1,
    clinical_question="What next after a long history?",
)
for n in range(1, 41):
    HistoryItem.objects.create(
        case=case, position=n, text=f"History item {n}: an earlier illness described at some length for the room"
    )
AgendaItem.objects.create(event=event, case=case, position=2)
print(case.id)
"""
# Body text of a paged case stays at least this large at 1080p: the stage's readable floor
# (presenter.js READABLE_FLOOR, 0.6 of the 1rem body text of 2.9vh).
READABLE_BODY_PX = 0.6 * 0.029 * 1080 - 0.5


def history_sizes(page: Page) -> list[float]:
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="case"] .case-history li')]
          .filter((el) => el.checkVisibility())
          .map((el) => parseFloat(getComputedStyle(el).fontSize))"""
    )


def shown_history(page: Page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="case"] .case-history li')]
          .filter((el) => el.checkVisibility()).map((el) => el.textContent)"""
    )


def test_a_case_too_long_to_read_is_split_into_pages_the_moderator_steps_through(demo, contexts, moderator_storage):
    from tests.browser.live_moderator import shell
    from tests.browser.pages import DESKTOP, open_console

    long_case = int(shell(demo, LONG_CASE))
    projector = open_presenter(contexts(viewport={"width": 1920, "height": 1080}, storage_state=moderator_storage))
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    moderator = Moderator(demo, moderator_storage)
    moderator.command("show_case", case=long_case)
    expect(projector.get_by_test_id("stage-page")).to_have_text(re.compile(r"^Page 1 of [2-9]$"))
    count = int(projector.get_by_test_id("stage-page").text_content().split()[-1])
    expect(console.get_by_test_id("now-page")).to_contain_text(f"Page 1 of {count}")

    seen: list[str] = []
    for number in range(1, count + 1):
        expect(projector.get_by_test_id("stage-page")).to_have_text(f"Page {number} of {count}")
        expect(console.get_by_test_id("now-page")).to_contain_text(f"Page {number} of {count}")
        projector.wait_for_function("() => document.fonts.status === 'loaded'")
        assert text_outside(projector) == [], f"page {number}"
        sizes = history_sizes(projector)
        assert sizes and min(sizes) >= READABLE_BODY_PX, (number, sizes)
        seen += shown_history(projector)
        if number < count:
            console.get_by_test_id("stage-next").click()
    # Every item of the case was on one page, once, in order.
    assert seen == [f"History item {n}: an earlier illness described at some length for the room" for n in range(1, 41)]
    assert_no_violations(projector, "projector on the last page of a long case")
    assert_no_violations(console, "console on a paged case")
    # Back turns the pages back; before the first, it moves back along the agenda.
    for number in range(count - 1, 0, -1):
        console.get_by_test_id("stage-back").click()
        expect(projector.get_by_test_id("stage-page")).to_have_text(f"Page {number} of {count}")
    console.get_by_test_id("stage-back").click()
    expect(projector.get_by_test_id("stage")).to_have_attribute("data-screen", "poll")
    expect(projector.get_by_test_id("stage-page")).to_be_hidden()
    expect(console.get_by_test_id("now-page")).to_be_hidden()
