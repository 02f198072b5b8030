"""A phone answers every kind of question: scale, ranking, number, free text, multiple choice, confidence."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.live_moderator import Moderator, shell
from tests.browser.pages import CODE, DESKTOP, PHONE, open_phone
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser

SOCKET = re.compile(r"/ws/e/")
RANKING = ["Cilta-cel (CAR T)", "BCMA bispecific", "Talquetamab (GPRC5D bispecific)", "Belantamab combination"]

# A multiple-choice poll (at most two picks) asking for confidence, and confidence on the first poll.
ADD_MULTI_POLL = """
from polls.models import Event, Option, Poll
event = Event.objects.get(code="CASE2")
first = event.polls.order_by("position").first()
Poll.objects.filter(pk=first.pk).update(ask_confidence=True)
poll = Poll.objects.create(event=event, case=first.case, position=10, kind="multi", max_choices=2,
                           ask_confidence=True, question="Which would you check before referral?")
for position, label in enumerate(["Renal function", "Cardiac function", "Caregiver support"], start=1):
    Option.objects.create(poll=poll, position=position, label=label)
print(poll.pk)
"""


@pytest.fixture
def moderator(demo, moderator_storage) -> Moderator:
    return Moderator(demo, moderator_storage)


def phone_page(contexts, **kwargs) -> Page:
    return open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True, **kwargs))


def expect_poll(phone: Page, question: str, kind: str) -> None:
    expect(phone.get_by_test_id("poll-question")).to_have_text(question)
    expect(phone.get_by_test_id("poll-state")).to_have_text("Poll open")
    expect(phone.get_by_test_id("ballot")).to_have_attribute("data-kind", kind)


def send(phone: Page) -> None:
    phone.get_by_test_id("ballot-submit").click()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")


def rank_labels(phone: Page) -> list[str]:
    return phone.get_by_test_id("rank-label").all_inner_texts()


def eventually(read, until=bool, seconds: float = 10):
    """Read the server's side until it satisfies `until` (it follows the page's ack by a moment)."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if until(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)  # polling the server's JSON endpoint, not waiting on the page


def option_ids(poll: dict) -> dict[str, int]:
    return {o["label"]: o["id"] for o in poll["options"]}


def test_phone_votes_on_a_likert_and_a_ranking_poll(moderator, contexts):
    phone = phone_page(contexts)
    likert = moderator.poll("likert")
    moderator.open(likert["id"])
    expect_poll(phone, likert["question"], "likert")
    points = phone.get_by_test_id("choice")
    expect(points).to_have_text([re.compile(label) for label in option_ids(likert)])  # in scale order
    # At 360 px the scale is a vertical list.
    first, second = points.nth(0).bounding_box(), points.nth(1).bounding_box()
    assert second["y"] >= first["y"] + first["height"] and second["x"] == first["x"]

    phone.get_by_label("Very likely").check()
    send(phone)
    expect(phone.get_by_label("Very likely")).to_be_checked()
    tally = moderator.results(likert["id"])
    assert tally["total"] == 1
    assert tally["counts"] == {str(i): int(label == "Very likely") for label, i in option_ids(likert).items()}

    ranking = moderator.poll("ranking")
    moderator.open(ranking["id"])
    expect_poll(phone, ranking["question"], "ranking")
    assert rank_labels(phone) == RANKING
    talquetamab = phone.get_by_test_id("rank-item").filter(has_text="Talquetamab")
    talquetamab.get_by_role("button", name="Move Talquetamab (GPRC5D bispecific) up").click()
    expect(phone.get_by_test_id("rank-status")).to_have_text("Talquetamab (GPRC5D bispecific): position 2 of 4.")
    # The moved item keeps keyboard focus; at the top its "up" button is disabled and focus moves to "down".
    expect(talquetamab.get_by_test_id("move-up")).to_be_focused()
    phone.keyboard.press("Enter")
    expect(talquetamab.get_by_test_id("move-up")).to_be_disabled()
    expect(talquetamab.get_by_test_id("move-down")).to_be_focused()
    phone.get_by_role("button", name="Move Belantamab combination up").click()
    order = [RANKING[2], RANKING[0], RANKING[3], RANKING[1]]
    assert rank_labels(phone) == order
    send(phone)

    tally = moderator.results(ranking["id"])
    ids = option_ids(ranking)
    assert tally["total"] == 1
    assert [row["option"] for row in tally["ranking"]] == [ids[label] for label in order]
    assert [row["borda"] for row in tally["ranking"]] == [3, 2, 1, 0]

    # A reload restores the recorded ranking from the server's my_vote.
    phone.reload()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    expect(phone.get_by_test_id("rank-label")).to_have_text(order)


def test_likert_scale_is_one_row_on_a_wide_screen(moderator, contexts):
    phone = open_phone(contexts(viewport=DESKTOP))
    likert = moderator.poll("likert")
    moderator.open(likert["id"])
    expect_poll(phone, likert["question"], "likert")
    boxes = [box for box in (p.bounding_box() for p in phone.get_by_test_id("choice").all())]
    assert len({round(box["y"]) for box in boxes}) == 1
    assert [box["x"] for box in boxes] == sorted(box["x"] for box in boxes)


def test_numeric_vote_refuses_a_value_out_of_range_then_records_one(moderator, contexts):
    phone = phone_page(contexts)
    numeric = moderator.poll("numeric")
    moderator.open(numeric["id"])
    expect_poll(phone, numeric["question"], "numeric")
    field = phone.get_by_label("Your answer (months)")
    expect(field).to_have_attribute("inputmode", "decimal")
    expect(field).to_have_attribute("min", "0")
    expect(field).to_have_attribute("max", "24")
    expect(phone.get_by_test_id("number-range")).to_have_text("Between 0 and 24 months.")

    field.fill("30")
    phone.get_by_test_id("ballot-submit").click()
    expect(phone.get_by_test_id("ballot-error")).to_have_text("That is out of range. Between 0 and 24 months.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("")
    assert moderator.results(numeric["id"])["total"] == 0

    field.fill("6")
    expect(phone.get_by_test_id("ballot-error")).to_have_text("")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    send(phone)
    assert moderator.results(numeric["id"])["numeric"]["median"] == 6

    phone.reload()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    expect(phone.get_by_label("Your answer (months)")).to_have_value("6")


def test_server_refusal_is_shown_next_to_the_number(moderator, contexts):
    """The server checks the range too: a value the page let through is refused with out_of_range."""
    numeric = moderator.poll("numeric")
    moderator.open(numeric["id"])
    phone = contexts(viewport=PHONE, is_mobile=True, has_touch=True).new_page()

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "vote":
                message = json.dumps({**frame, "value": 99})  # as if the page had not checked the range
            server.send(message)

        ws.on_message(from_page)

    phone.route_web_socket(SOCKET, route)
    phone.goto(f"/e/{CODE}/")
    expect_poll(phone, numeric["question"], "numeric")
    phone.get_by_label("Your answer (months)").fill("6")
    phone.get_by_test_id("ballot-submit").click()
    expect(phone.get_by_test_id("ballot-error")).to_have_text("Answer between 0 and 24.")
    expect(phone.get_by_label("Your answer (months)")).to_have_attribute("aria-invalid", "true")
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Not recorded.")
    assert moderator.results(numeric["id"])["total"] == 0


def test_free_text_answer_with_a_live_counter_goes_to_the_moderator_first(moderator, contexts):
    phone = phone_page(contexts)
    text = moderator.poll("text")
    moderator.open(text["id"])
    expect_poll(phone, text["question"], "text")
    box = phone.get_by_label("Your answer")
    counter = phone.get_by_test_id("text-counter")
    expect(counter).to_have_text("0 of 140 characters")

    box.fill("x" * 141)
    expect(counter).to_have_text("141 of 140 characters")
    phone.get_by_test_id("ballot-submit").click()
    expect(phone.get_by_test_id("ballot-error")).to_have_text("Your answer is 1 character too long (at most 140).")
    expect(box).to_have_attribute("aria-invalid", "true")
    box.fill("   ")
    phone.get_by_test_id("ballot-submit").click()
    expect(phone.get_by_test_id("ballot-error")).to_have_text("Write an answer first.")
    assert moderator.results(text["id"])["total"] == 0

    box.fill("  Distance   to the nearest CAR T centre ")
    expect(counter).to_have_text("36 of 140 characters")
    send(phone)
    expect(box).to_have_value("Distance to the nearest CAR T centre")  # as the server recorded it
    expect(phone.get_by_test_id("text-note")).to_contain_text("The moderator reads answers first")
    answers = moderator.results(text["id"])["answers"]
    assert [(a["text"], a["status"]) for a in answers] == [("Distance to the nearest CAR T centre", "pending")]

    phone.reload()
    expect(phone.get_by_label("Your answer")).to_have_value("Distance to the nearest CAR T centre")
    expect(phone.get_by_test_id("text-note")).to_contain_text("Sent.")


def test_multiple_choice_with_confidence_and_a_one_tap_confidence_on_single_choice(demo, moderator, contexts):
    multi_id = int(shell(demo, ADD_MULTI_POLL))
    phone = phone_page(contexts)
    multi = next(p for p in moderator.polls() if p["id"] == multi_id)
    moderator.open(multi_id)
    expect_poll(phone, multi["question"], "multi")
    expect(phone.get_by_test_id("poll-hint")).to_have_text("Choose up to 2, then send.")
    phone.get_by_label("Renal function").check()
    phone.get_by_label("Caregiver support").check()
    phone.get_by_label("Cardiac function").click()  # a third pick is refused here
    expect(phone.get_by_label("Cardiac function")).not_to_be_checked()
    expect(phone.get_by_test_id("ballot-error")).to_have_text("You can choose up to 2. Untick one to choose another.")
    expect(phone.get_by_test_id("confidence")).to_contain_text("How confident are you?")
    phone.get_by_test_id("confidence").get_by_label("4").check()
    send(phone)
    tally = moderator.results(multi_id)
    ids = option_ids(multi)
    expected = {"Renal function": 1, "Cardiac function": 0, "Caregiver support": 1}
    assert tally["counts"] == {str(ids[label]): n for label, n in expected.items()}
    assert tally["confidence"][str(ids["Renal function"])] == {"mean": 4, "n": 1}

    phone.reload()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    expect(phone.get_by_label("Renal function")).to_be_checked()
    expect(phone.get_by_label("Caregiver support")).to_be_checked()
    expect(phone.get_by_test_id("confidence").get_by_label("4")).to_be_checked()

    # Single choice stays one tap; the confidence row sends again at once with the answer given.
    single = moderator.polls()[0]
    moderator.open(single["id"])
    expect_poll(phone, single["question"], "single")
    phone.get_by_role("button", name="Refer for CAR T", exact=True).click()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    phone.get_by_test_id("confidence").get_by_label("2").check()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    car_t = option_ids(single)["Refer for CAR T"]
    assert eventually(lambda: moderator.results(single["id"])["confidence"].get(str(car_t))) == {"mean": 2, "n": 1}


def test_a_queued_ballot_is_resent_whole_with_the_same_ref_after_a_reload(demo, moderator, contexts):
    multi_id = int(shell(demo, ADD_MULTI_POLL))
    moderator.open(multi_id)
    phone = contexts(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    votes: list[dict] = []
    hold = [True]

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "vote":
                votes.append(frame)
                if hold[0]:
                    return  # lost with the page
            server.send(message)

        ws.on_message(from_page)

    phone.route_web_socket(SOCKET, route)
    phone.goto(f"/e/{CODE}/")
    expect(phone.get_by_test_id("ballot")).to_have_attribute("data-kind", "multi")
    phone.get_by_label("Cardiac function").check()
    phone.get_by_label("Renal function").check()
    phone.get_by_test_id("confidence").get_by_label("5").check()
    phone.get_by_test_id("ballot-submit").click()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Saving…")

    hold[0] = False
    phone.reload()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    assert len(votes) == 2 and votes[0] == votes[1]
    assert set(votes[0]) == {"type", "ref", "poll", "options", "confidence"} and votes[0]["confidence"] == 5
    expect(phone.get_by_label("Cardiac function")).to_be_checked()
    expect(phone.get_by_test_id("confidence").get_by_label("5")).to_be_checked()
    assert moderator.results(multi_id)["total"] == 1


def test_a_vote_arriving_after_the_close_is_refused_plainly(moderator, contexts):
    likert = moderator.poll("likert")
    moderator.open(likert["id"])
    phone = contexts(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    held: list = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if json.loads(message).get("type") == "vote":
                held.append((server, message))  # delayed, as on a slow network
                return
            server.send(message)

        ws.on_message(from_page)

    phone.route_web_socket(SOCKET, route)
    phone.goto(f"/e/{CODE}/")
    expect_poll(phone, likert["question"], "likert")
    phone.get_by_label("Unsure").check()
    phone.get_by_test_id("ballot-submit").click()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Saving…")
    moderator.close(likert["id"])
    expect(phone.get_by_test_id("poll-state")).to_have_text("Poll closed")
    expect(phone.get_by_test_id("ballot-submit")).to_be_disabled()
    for server, message in held:
        server.send(message)
    expect(phone.get_by_test_id("ballot-error")).to_have_text(
        "The poll closed before your answer arrived, so it was not counted."
    )
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Not recorded.")
    assert moderator.results(likert["id"])["total"] == 0
    # Revealed results replace the controls, but not before the refusal has been seen.
    moderator.command("reveal_results", poll=likert["id"])
    expect(phone.get_by_test_id("results")).to_be_visible()
    expect(phone.get_by_test_id("ballot-error")).to_be_visible()


def test_countdown_disables_the_controls_at_zero(moderator, contexts):
    phone = phone_page(contexts)
    numeric = moderator.poll("numeric")
    # Long enough for a loaded machine to show the phone the running countdown before zero (at
    # 5 s a CI run once saw the poll only after it had closed); the test asserts order, not speed.
    moderator.open(numeric["id"], duration=15)
    expect_poll(phone, numeric["question"], "numeric")
    expect(phone.get_by_test_id("countdown")).to_contain_text("Closes in 0:")
    expect(phone.get_by_test_id("ballot-submit")).to_be_enabled()
    expect(phone.get_by_test_id("ballot-submit")).to_be_disabled(timeout=30_000)  # at zero
    expect(phone.get_by_label("Your answer (months)")).to_be_disabled()
    expect(phone.get_by_test_id("poll-state")).to_have_text("Poll closed")  # the server closed it at zero
    expect(phone.get_by_test_id("poll-hint")).to_have_text("Voting has closed.")


def test_preferred_answer_is_highlighted_with_its_rationale(moderator, contexts):
    phone = phone_page(contexts)
    single = moderator.polls()[0]
    moderator.open(single["id"])
    expect_poll(phone, single["question"], "single")
    expect(phone.get_by_test_id("preferred")).to_be_hidden()
    moderator.command("reveal_preferred", poll=single["id"])
    panel = phone.get_by_test_id("preferred")
    expect(panel).to_be_visible()
    expect(phone.get_by_test_id("preferred-answer")).to_have_text("Refer for CAR T")
    expect(phone.get_by_test_id("preferred-rationale")).to_contain_text("IMWG guidance (2025)")
    car_t = phone.get_by_test_id("option").filter(has_text="Refer for CAR T")
    expect(car_t).to_have_class(re.compile(r"\bis-preferred\b"))
    expect(car_t.get_by_test_id("preferred-tag")).to_have_text("Preferred")
    expect(phone.get_by_test_id("preferred-tag")).to_have_count(1)
    moderator.command("hide_preferred", poll=single["id"])
    expect(panel).to_be_hidden()
    expect(phone.get_by_test_id("preferred-tag")).to_have_count(0)


def test_phone_has_no_axe_violations_with_each_kind_of_poll(demo, moderator, contexts):
    shell(demo, ADD_MULTI_POLL)  # adds multiple choice and confidence rows
    phone = phone_page(contexts)
    for poll in moderator.polls():
        moderator.open(poll["id"])
        expect_poll(phone, poll["question"], poll["kind"])
        if poll["kind"] == "single":
            moderator.command("reveal_preferred", poll=poll["id"])
            expect(phone.get_by_test_id("preferred")).to_be_visible()
        if poll["kind"] in {"multi", "likert", "numeric", "text"}:  # with an error next to the controls, too
            phone.get_by_test_id("ballot-submit").click()
            expect(phone.get_by_test_id("ballot-error")).not_to_have_text("")
        assert_no_violations(phone, f"participant ({poll['kind']} poll)")
