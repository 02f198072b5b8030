"""The outcomes report (`/e/<CODE>/outcomes/` and its PDF, issue 15): a replayed event whose
answers are known gives the figures computed here by hand, in the page and in the PDF."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from math import comb

import pytest
from django.urls import reverse

from polls import services
from polls.models import Option, Participant, PollPurpose
from tests.factories import make_case, make_event, make_moderator, make_poll

pytestmark = pytest.mark.django_db

REFER, TRIAL = "Refer for CAR T", "Bispecific on a clinical trial"
# Twelve participants: P1-P10 answer before the teaching, P3-P12 after it; P3-P10 answer both.
BEFORE = {1: REFER, 2: TRIAL, 3: REFER, 4: REFER, 5: REFER, 6: TRIAL, 7: TRIAL, 8: TRIAL, 9: TRIAL, 10: TRIAL}
AFTER = {3: REFER, 4: TRIAL, 5: REFER, 6: REFER, 7: REFER, 8: REFER, 9: REFER, 10: REFER, 11: REFER, 12: REFER}


def _replay(*, min_cell_size: int = 5, preferred: bool = True):
    moderator = make_moderator()
    case = make_case()
    event = make_event(moderators=[moderator], cases=[case], min_cell_size=min_cell_size)
    pre = make_poll(event, case, labels=(REFER, TRIAL), purpose=PollPurpose.PRE, question="Next line for this patient?")
    Option.objects.filter(poll=pre, label=REFER).update(is_preferred=preferred)
    people = {n: Participant.objects.create(event=event) for n in range(1, 13)}
    services.event_start(event_id=event.id, user=moderator)
    post = services.poll_new_round(event_id=event.id, poll_id=pre.id, user=moderator)
    for poll, answers in ((pre, BEFORE), (post, AFTER)):
        services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
        labels = dict(poll.options.values_list("label", "id"))
        for n, label in answers.items():
            services.vote_cast(
                participant_id=people[n].id,
                event_id=event.id,
                poll_id=poll.id,
                ref=f"p{n}-{poll.id}",
                option_ids=(labels[label],),
            )
        services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
    services.event_end(event_id=event.id, user=moderator)
    return event, moderator


def _expected() -> list[str]:
    """Every figure worked out from BEFORE and AFTER, not read from the implementation."""
    matched = sorted(BEFORE.keys() & AFTER.keys())
    assert len(matched) == 8
    before_all = sum(1 for a in BEFORE.values() if a == REFER)
    after_all = sum(1 for a in AFTER.values() if a == REFER)
    assert (before_all, after_all) == (4, 9)
    b = sum(1 for n in matched if BEFORE[n] == REFER and AFTER[n] != REFER)
    c = sum(1 for n in matched if BEFORE[n] != REFER and AFTER[n] == REFER)
    assert (b, c) == (1, 5)
    # Exact McNemar: two-sided binomial of b in b + c trials at one half (symmetric: twice the tail).
    p = min(1.0, 2 * sum(comb(b + c, k) for k in range(0, min(b, c) + 1)) / 2 ** (b + c))
    assert p == 14 / 64
    matched_before = sum(1 for n in matched if BEFORE[n] == REFER)
    matched_after = sum(1 for n in matched if AFTER[n] == REFER)
    return [
        f"All who answered (unmatched) {before_all} of 10 (40.0%) {after_all} of 10 (90.0%)",
        f"Matched: answered both {matched_before} of 8 (37.5%) {matched_after} of 8 (87.5%)",
        f"McNemar's exact test, n = 8 matched: {b} moved away from the preferred answer (b), {c} moved to it (c); "
        f"statistic {min(b, c)}, p = {p:.3f}.",
        f"Effect size: +{100 * (c - b) / 8:.1f} points among the matched; discordant odds ratio c/b {c / b:.2f}.",
        "3 Knowledge (pre and post) 8 1 pre/post question, matched by pseudonym",
        "1 Participation 12 12 joined, 12 answered a poll",
    ]


def _flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def _page_text(body: str) -> str:
    body = re.sub(r"<style\b.*?</style>", " ", body, flags=re.S)
    return _flat(html.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_the_outcomes_page_shows_the_hand_computed_paired_test(client):
    event, moderator = _replay()
    client.force_login(moderator)
    response = client.get(reverse("event-outcomes", kwargs={"code": event.code}))
    assert response.status_code == 200
    text = _page_text(response.content.decode())
    for line in _expected():
        assert line in text, line
    assert "p = 0.219" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_the_outcomes_pdf_shows_the_same_figures(client, tmp_path):
    event, moderator = _replay()
    client.force_login(moderator)
    response = client.get(reverse("event-outcomes-pdf", kwargs={"code": event.code}))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    path = tmp_path / "outcomes.pdf"
    path.write_bytes(response.content)
    text = _flat(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout)
    for line in _expected()[2:4]:
        assert line in text, line
    for figure in ("4 of 10 (40.0%)", "9 of 10 (90.0%)", "3 of 8 (37.5%)", "7 of 8 (87.5%)"):
        assert figure in text, figure


def test_fewer_matched_than_the_minimum_cell_hide_the_matched_comparison(client):
    event, moderator = _replay(min_cell_size=9)
    client.force_login(moderator)
    text = _page_text(client.get(reverse("event-outcomes", kwargs={"code": event.code})).content.decode())
    assert "8 participants answered both, fewer than 9: the matched comparison is not shown." in text
    assert "McNemar's exact test, n =" not in text and "of 8 (" not in text
    assert "4 of 10 (40.0%)" in text  # the whole audience's figures stay


def test_without_a_preferred_answer_no_paired_test_is_made_up(client):
    event, moderator = _replay(preferred=False)
    client.force_login(moderator)
    text = _page_text(client.get(reverse("event-outcomes", kwargs={"code": event.code})).content.decode())
    assert "No preferred answer is set for this question" in text
    assert "McNemar's exact test, n =" not in text and "4 of 10" not in text


def test_only_the_events_moderators_see_its_outcomes(client):
    event, moderator = _replay()
    for name in ("event-outcomes", "event-outcomes-pdf"):
        url = reverse(name, kwargs={"code": event.code})
        client.logout()
        anonymous = client.get(url)
        assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
        client.force_login(make_moderator())
        assert client.get(url).status_code == 403
        assert client.get(reverse(name, kwargs={"code": "ZZZZ9"})).status_code == 403


def _exact_signed_rank(differences: list[int]) -> tuple[float, float, float]:
    """(statistic, two-sided p, rank-biserial) by enumerating every sign assignment (no ties here)."""
    from itertools import product

    nonzero = [d for d in differences if d]
    ranks = {abs(d): r for r, d in enumerate(sorted(nonzero, key=abs), start=1)}
    assert len(ranks) == len(nonzero), "the hand computation assumes no tied differences"
    w_plus = sum(ranks[abs(d)] for d in nonzero if d > 0)
    w_minus = sum(ranks[abs(d)] for d in nonzero if d < 0)
    statistic = min(w_plus, w_minus)
    total = sum(ranks.values())
    extreme = 0
    for signs in product((1, -1), repeat=len(nonzero)):
        plus = sum(r for r, s in zip(ranks.values(), signs, strict=True) if s > 0)
        extreme += min(plus, total - plus) <= statistic
    return statistic, extreme / 2 ** len(nonzero), (w_plus - w_minus) / total


def test_a_rating_pre_post_with_confidence_uses_wilcoxon_as_computed_by_hand(client):
    ratings = {1: (1, 2), 2: (3, 1), 3: (1, 4), 4: (1, 5), 5: (2, 2)}  # participant: (before, after)
    confidence = {1: (1, 2), 2: (1, 3), 3: (4, 1), 4: (1, 5), 5: (3, 3)}
    moderator = make_moderator()
    case = make_case()
    event = make_event(moderators=[moderator], cases=[case], min_cell_size=5)
    points = ("1", "2", "3", "4", "5")
    pre = make_poll(event, case, labels=points, kind="likert", purpose=PollPurpose.PRE, ask_confidence=True)
    people = {n: Participant.objects.create(event=event) for n in ratings}
    services.event_start(event_id=event.id, user=moderator)
    post = services.poll_new_round(event_id=event.id, poll_id=pre.id, user=moderator)
    from polls.ballots import Ballot

    for index, poll in enumerate((pre, post)):
        services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
        ids = dict(poll.options.values_list("label", "id"))
        for n, person in people.items():
            ballot = Ballot(options=(ids[str(ratings[n][index])],), confidence=confidence[n][index])
            services.vote_cast(
                participant_id=person.id, event_id=event.id, poll_id=poll.id, ref=f"r{n}-{index}", ballot=ballot
            )
        services.poll_close(event_id=event.id, poll_id=poll.id, user=moderator)
    w, p, r = _exact_signed_rank([after - before for before, after in ratings.values()])
    cw, cp, cr = _exact_signed_rank([after - before for before, after in confidence.values()])
    assert (w, p, r, cw, cp, cr) == (2, 6 / 16, 0.6, 3, 10 / 16, 0.4)
    client.force_login(moderator)
    text = _page_text(client.get(reverse("event-outcomes", kwargs={"code": event.code})).content.decode())
    assert (
        f"Matched, n = 5: mean 1.6 before, 2.8 after. Wilcoxon signed-rank test on 4 changed ratings: "
        f"statistic {w:.1f}, p = {p:.3f}; rank-biserial correlation {r}." in text
    )
    assert (
        f"Confidence (1–5), matched n = 5: mean 2.0 before, 2.8 after. Wilcoxon signed-rank test: "
        f"statistic {cw:.1f}, p = {cp:.3f}; rank-biserial correlation {cr}." in text
    )


def test_evaluation_items_and_intent_themes_are_read_with_their_n(client):
    from polls.ballots import Ballot
    from polls.models import Vote

    moderator = make_moderator()
    case = make_case()
    event = make_event(moderators=[moderator], cases=[case])
    scale = ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree")
    evaluation = make_poll(event, case, labels=scale, kind="likert", purpose=PollPurpose.EVALUATION,
                           question="The content was free of commercial bias.")  # fmt: skip
    intent = make_poll(event, case, labels=(), kind="text", purpose=PollPurpose.INTENT,
                       question="What will you change in your practice?")  # fmt: skip
    ratings = [5, 5, 4, 4, 4, 3, 2]  # top two (Agree, Strongly agree): 5 of 7
    texts = ["Refer to CAR T earlier", "Earlier CAR T referral", "Check CAR T eligibility", "Nothing"]
    people = [Participant.objects.create(event=event) for _ in ratings]
    services.event_start(event_id=event.id, user=moderator)
    for poll in (evaluation, intent):
        services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    points = list(evaluation.options.values_list("id", flat=True))
    for n, (person, rating) in enumerate(zip(people, ratings, strict=True)):
        services.vote_cast(participant_id=person.id, event_id=event.id, poll_id=evaluation.id, ref=f"e{n}",
                           ballot=Ballot(options=(points[rating - 1],)))  # fmt: skip
    for n, (person, text) in enumerate(zip(people, texts, strict=False)):
        services.vote_cast(participant_id=person.id, event_id=event.id, poll_id=intent.id, ref=f"i{n}",
                           ballot=Ballot(text=text))  # fmt: skip
    for vote in Vote.objects.filter(poll=intent).exclude(value_text="Nothing"):  # "Nothing" is never approved
        services.answer_moderate(event_id=event.id, answer_id=vote.id, approve=True, user=moderator)
    client.force_login(moderator)
    text = _page_text(client.get(reverse("event-outcomes", kwargs={"code": event.code})).content.decode())
    assert "n = 7; top two answers: 5 of 7 (71.4%)" in text
    assert "Strongly agree 2 28.6%" in text and "Agree 3 42.9%" in text
    assert "n = 4." in text  # the intent poll's answers, approved or not
    assert "Themes (most frequent words of the approved answers): CAR T (3)" in text
    assert "Nothing" not in text.split("Level 4")[1].split("Level 5")[0]  # unapproved text stays out
    assert "2 Satisfaction 7 1 evaluation item" in text


@pytest.mark.parametrize("name", ["event-outcomes", "event-report"])
def test_the_policy_allows_exactly_the_pages_inline_stylesheet(client, name):
    import base64
    import hashlib

    event, moderator = _replay()
    client.force_login(moderator)
    response = client.get(reverse(name, kwargs={"code": event.code}))
    css = re.search(r"<style>(.*?)</style>", response.content.decode(), flags=re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = response["Content-Security-Policy"]
    assert f"style-src 'self' 'sha256-{digest}'" in policy and "unsafe-inline" not in policy
    assert "script-src 'self';" in policy  # nothing else loosened
