"""The recap: drafted from the replayed event's figures, edited with a preview, published, shared on
a public link that shows the text and nothing else, and rendered safely whatever the text holds."""

from __future__ import annotations

import pytest
from django.urls import reverse

from polls.demo_replay import replay_demo
from polls.models import EventRecap, ModeratorAction
from polls.reports import build, recap

pytestmark = pytest.mark.django_db


@pytest.fixture
def replayed(client):
    replay = replay_demo()
    client.force_login(replay.event.moderators.get())
    return replay, client


def test_the_draft_tells_the_event_from_its_figures(replayed):
    replay, _ = replayed
    text = recap.draft(build.event_report(event=replay.event))
    expected = [
        "# Myeloma roundtable: sequencing at second relapse",
        "A 70-year-old man with IgG-lambda multiple myeloma, diagnosed 6 years ago (R-ISS 2, R2-ISS III)",
        "has had 2 lines of therapy (1: VRd induction, autologous SCT, then lenalidomide maintenance; 2: DKd)",
        "ECOG performance status 1.",
        "The 10 participants who answered chose Refer for CAR T (70%, 7) or Bispecific on a clinical trial (30%, 3)",
        "no one chose Conventional doublet or triplet or Other",
        "The faculty panel chose Refer for CAR T (3 of 3)",
        "The evidence-preferred answer is Refer for CAR T. He has had no BCMA-directed therapy yet, and IMWG",
        "7 of 10 participants (70%) chose it.",
        "Asked again after the discussion (round 2), 9 of 10 participants (90%) chose Refer for CAR T (+20 points)",
        "2 of the 10 who answered both rounds changed their answer",
        "chose Very likely (100%, 10)",
        "The median answer was 6 months (mean 6.4; from 3 to 12; 10 answers)",
        "Cilta-cel (CAR T) (Borda score 27, mean rank 1.3)",
        "(NCT03651128)",
        "NEJMoa2303379; NCT04181827)",
        "## Key take-aways",
    ]
    for line in expected:
        assert line in text, line
    # Sections in the recap's order: the vote, the teaching with its evidence, then after the discussion.
    order = ["### How the room voted", "### What the faculty taught, and the evidence", "### After the discussion"]
    assert [text.index(h) for h in order] == sorted(text.index(h) for h in order)
    assert "Travel distance" not in text  # no participant's words


def test_the_moderator_previews_saves_publishes_and_shares(replayed):
    replay, client = replayed
    url = reverse("event-recap", kwargs={"code": replay.event.code})
    page = client.get(url).content.decode()
    assert "Not saved yet" in page and "Refer for CAR T (70%, 7)" in page
    preview = client.post(url, {"action": "preview", "body": "# Edited\n\nThe room chose **CAR T**."})
    assert preview.status_code == 200 and "<strong>CAR T</strong>" in preview.content.decode()
    assert not EventRecap.objects.filter(event=replay.event).exists()  # a preview saves nothing
    assert client.post(url, {"action": "save", "body": "# Edited\n\nSaved text."}).status_code == 302
    md = client.get(reverse("event-recap-md", kwargs={"code": replay.event.code}))
    assert md.content.decode() == "# Edited\n\nSaved text." and md["Content-Type"].startswith("text/markdown")
    saved = EventRecap.objects.get(event=replay.event)
    public_url = reverse("recap-public", kwargs={"token": saved.public_token})
    assert client.get(public_url).status_code == 404  # not published
    client.post(url, {"action": "publish", "body": "# Edited\n\nPublished text."})
    assert client.get(public_url).status_code == 404  # published, link not on
    client.post(url, {"action": "share", "body": "# Edited\n\nPublished text."})
    client.logout()
    shared = client.get(public_url)
    assert shared.status_code == 200 and "Published text." in shared.content.decode()
    assert shared["X-Robots-Tag"] == "noindex"
    client.force_login(replay.event.moderators.get())
    client.post(url, {"action": "withdraw", "body": "# Edited\n\nPublished text."})
    client.logout()
    assert client.get(public_url).status_code == 404
    actions = list(ModeratorAction.objects.filter(event=replay.event).values_list("action", flat=True))
    for action in ("publish_recap", "share_recap", "withdraw_recap"):
        assert action in actions


def test_the_recap_pdf_is_a_pdf(replayed):
    replay, client = replayed
    response = client.get(reverse("event-recap-pdf", kwargs={"code": replay.event.code}))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=//evil.example></iframe>",
        '<p style="background:url(javascript:alert(1))">x</p>',
    ],
)
def test_markdown_renders_safely(attack):
    html = recap.render(f"Intro\n\n{attack}\n\n**bold** [ok](https://pubmed.ncbi.nlm.nih.gov/1/)")
    lowered = html.lower()
    for bad in ("<script", "onerror", "javascript:", "<iframe", "style=", "<img"):
        assert bad not in lowered, (attack, html)
    assert "<strong>bold</strong>" in html and 'href="https://pubmed.ncbi.nlm.nih.gov/1/"' in html


def test_author_text_in_the_draft_stays_text():
    assert recap.md("<b>x</b> *y* [z](javascript:1)") == r"\<b\>x\</b\> \*y\* \[z\](javascript:1)"
    assert "<b>" not in recap.render(recap.md("<b>x</b>"))
