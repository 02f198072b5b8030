"""Issue 18 in a real browser: a phone follows its event's language, the JavaScript reads the
server-rendered catalogue (under the page's CSP), and the phone switches to its own language.

The issue's acceptance test runs a poll with a Spanish and a German phone and a French projector:
texts, plural forms, percentages written as each language writes them, the `lang` attributes of
the pages and of the case's own text, and axe on each screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.live_moderator import shell
from tests.browser.pages import CODE, PHONE
from tests.browser.test_browser_a11y import assert_no_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def spanish_demo(demo):
    shell(demo, f'from polls.models import Event; print(Event.objects.filter(code="{CODE}").update(language="es"))')
    yield demo
    shell(demo, f'from polls.models import Event; print(Event.objects.filter(code="{CODE}").update(language="en"))')


def test_a_german_phone_on_a_spanish_event_reads_spanish_then_switches_to_german(spanish_demo, contexts):
    phone = contexts(viewport=PHONE, is_mobile=True, has_touch=True, locale="de-DE").new_page()
    phone.goto(f"/e/{CODE}/")
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    # live.js's status comes from the catalogue the server put in the page.
    expect(phone.get_by_test_id("connection-status")).to_have_text("En directo")
    switcher = phone.get_by_role("combobox", name="Idioma")
    expect(switcher.locator("option").first).to_have_attribute("value", "de")  # the phone's own first
    assert_no_violations(phone, "Spanish phone with the language switcher")
    switcher.select_option("de")
    phone.get_by_role("button", name="Cambiar").click()
    expect(phone.locator("html")).to_have_attribute("lang", "de")
    expect(phone.get_by_role("link", name="Zum Hauptinhalt springen")).to_be_attached()
    expect(phone.get_by_test_id("connection-status")).to_have_text("Live")
    assert_no_violations(phone, "German phone")


# ---------------------------------------------------------------- the acceptance test

# A no-break space before "%" (U+00A0, or the narrow U+202F French typography uses), as Intl
# writes a percentage in Spanish, French and German; English writes "100%".
PERCENT_ALL_TWO = r"^100[\u00a0\u202f]% \(2\)$"


@pytest.fixture
def french_demo(demo):
    shell(demo, f'from polls.models import Event; print(Event.objects.filter(code="{CODE}").update(language="fr"))')
    yield demo
    shell(demo, f'from polls.models import Event; print(Event.objects.filter(code="{CODE}").update(language="en"))')


def phone_in(contexts, server, language: str, locale: str):
    """A phone whose reader picked `language` with the switcher (Django's language cookie)."""
    context = contexts(viewport=PHONE, is_mobile=True, has_touch=True, locale=locale)
    context.add_cookies([{"name": "django_language", "value": language, "url": server.url}])
    page = context.new_page()
    page.goto(f"/e/{CODE}/")
    return page


def test_a_poll_with_spanish_and_german_phones_and_a_french_projector(french_demo, contexts, moderator_storage):
    import re

    from tests.browser.live_moderator import Moderator
    from tests.browser.pages import PRE_DISCUSSION_OPTION, PROJECTOR

    moderator = Moderator(french_demo, moderator_storage)
    agenda = moderator.state()["agenda"]
    case, poll = next(
        (item, p)
        for item in agenda
        for p in item["polls"]
        if any(o["label"] == PRE_DISCUSSION_OPTION for o in p["options"])
    )
    case_language = shell(
        french_demo, f"from cases.models import Case; print(Case.objects.get(pk={case['id']}).language)"
    )
    moderator.command("show_case", case=case["id"])

    spanish = phone_in(contexts, french_demo, "es", "es-ES")
    german = phone_in(contexts, french_demo, "de", "de-DE")
    # The projector follows the event's language, whatever its browser says.
    projector = contexts(viewport=PROJECTOR, storage_state=moderator_storage, locale="en-US").new_page()
    projector.goto(f"/e/{CODE}/present/")
    for page, language, live in ((spanish, "es", "En directo"), (german, "de", "Live"), (projector, "fr", "En direct")):
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_test_id("connection-status")).to_have_text(live)
        # The case is its author's: its text carries the case's language, its labels the page's.
        expect(page.get_by_test_id("case-title")).to_have_attribute("lang", case_language)
    expect(spanish.get_by_test_id("waiting-text")).to_be_hidden()
    expect(spanish.locator("#case-heading")).to_have_text("El caso")
    expect(german.locator("#case-heading")).to_have_text("Der Fall")

    moderator.open(poll["id"])
    expect(spanish.get_by_test_id("poll-state")).to_have_text("Encuesta abierta")
    expect(german.get_by_test_id("poll-state")).to_have_text("Umfrage offen")
    expect(projector.get_by_test_id("poll-state")).to_have_text("Sondage ouvert")
    for page in (spanish, german, projector):
        expect(page.get_by_test_id("poll-question")).to_have_attribute("lang", case_language)
    for page, recorded in ((spanish, "Voto registrado"), (german, "Stimme erfasst")):
        page.get_by_role("button", name=PRE_DISCUSSION_OPTION, exact=True).click()
        expect(page.get_by_test_id("vote-receipt")).to_have_text(recorded)
    # French plurals: 2 is plural, and the count is the page's number.
    expect(projector.get_by_test_id("response-count")).to_have_text("2 réponses")
    expect(spanish.get_by_test_id("live-total")).to_have_text("2 respuestas hasta ahora")
    expect(german.get_by_test_id("live-total")).to_have_text("2 Antworten bisher")

    moderator.close(poll["id"])
    moderator.command("reveal_results", poll=poll["id"])
    expect(projector.get_by_test_id("poll-state")).to_have_text("Sondage clos")
    expect(projector.get_by_test_id("response-count")).to_have_text("Vote clos · 2 réponses")
    expect(spanish.get_by_test_id("poll-state")).to_have_text("Encuesta cerrada")
    expect(german.get_by_test_id("poll-state")).to_have_text("Umfrage geschlossen")
    expect(spanish.get_by_test_id("results-total")).to_have_text("2 respuestas")
    expect(german.get_by_test_id("results-total")).to_have_text("2 Antworten")
    for page in (spanish, german, projector):
        label = page.get_by_test_id("result-label").get_by_text(PRE_DISCUSSION_OPTION, exact=True)
        row = page.get_by_test_id("result-row").filter(has=label)
        expect(row.get_by_test_id("result-percent")).to_have_text(re.compile(PERCENT_ALL_TWO))

    assert_no_violations(spanish, "Spanish phone with results revealed")
    assert_no_violations(german, "German phone with results revealed")
    assert_no_violations(projector, "French projector with results revealed")
