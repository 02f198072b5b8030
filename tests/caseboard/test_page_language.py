"""Issue 18: which language each role's page renders in, and how a reader switches it."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.contrib.admin.sites import site
from django.test import RequestFactory

from caseboard import i18n
from polls.authorviews import WorkspaceEventForm
from polls.models import Event
from tests.factories import make_case, make_event, make_moderator

pytestmark = pytest.mark.django_db


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode())[1]


def switcher(response) -> list[str]:
    page = response.content.decode()
    block = page[page.index('id="language-switch-select"') :]
    return re.findall(r'<option value="([a-z]+)"', block[: block.index("</select>")])


def choose(client, language: str, next_url: str):
    return client.post("/i18n/setlang/", {"language": language, "next": next_url})


@pytest.fixture
def spanish_event():
    moderator = make_moderator()
    return make_event(moderators=[moderator], cases=[make_case()], status="live", language="es"), moderator


def test_an_event_is_in_english_unless_its_moderator_picks_another_of_the_shipped_languages():
    event = make_event()
    assert event.language == "en"
    assert [code for code, _ in Event._meta.get_field("language").choices] == ["en", "es", "fr", "de", "pt"]
    # Chosen in the admin and on the workspace's event form.
    admin_fields = [f for _name, opts in site._registry[Event].fieldsets for f in opts["fields"]]
    assert "language" in admin_fields
    form = WorkspaceEventForm(
        data={"title": "Mesa redonda", "language": "de", "time_zone": "UTC", "duration_minutes": 90}
    )
    assert form.is_valid(), form.errors
    assert form.save().language == "de"
    refused = WorkspaceEventForm(data={"title": "X", "language": "xx", "time_zone": "UTC", "duration_minutes": 90})
    assert not refused.is_valid() and "language" in refused.errors


def test_a_phone_follows_the_event_and_offers_its_own_language_first(client, spanish_event):
    event, _ = spanish_event
    response = client.get(f"/e/{event.code}/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert response.status_code == 200
    assert html_lang(response) == "es" and response.headers["Content-Language"] == "es"
    assert switcher(response) == ["de", "en", "es", "fr", "pt"]  # the phone's German first
    # The socket words its errors in the page's language (see test_error_messages_i18n).
    config = json.loads(
        re.search(r'id="caseboard-config" type="application/json">(.*?)</script>', response.content.decode())[1]
    )
    assert config["ws_path"].endswith("&lang=es")


def test_a_phone_that_switches_keeps_its_language_while_the_projector_stays_in_the_events(client, spanish_event):
    event, moderator = spanish_event
    response = choose(client, "de", f"/e/{event.code}/")
    assert response.status_code == 302 and response["Location"] == f"/e/{event.code}/"
    assert html_lang(client.get(f"/e/{event.code}/")) == "de"
    # A link to another site is not followed (set_language checks `next`).
    assert choose(client, "fr", "https://evil.example/").url != "https://evil.example/"
    # The projector reads to the room: the event's language, whatever this browser chose.
    client.force_login(moderator)
    assert html_lang(client.get(f"/e/{event.code}/present/")) == "es"


def test_the_console_is_in_its_moderators_own_language(client, spanish_event):
    event, moderator = spanish_event
    client.force_login(moderator)
    assert html_lang(client.get(f"/e/{event.code}/moderate/", HTTP_ACCEPT_LANGUAGE="fr")) == "fr"
    choose(client, "pt", f"/e/{event.code}/moderate/")
    response = client.get(f"/e/{event.code}/moderate/", HTTP_ACCEPT_LANGUAGE="fr")
    assert html_lang(response) == "pt"
    assert '<option value="pt" lang="pt" selected>' in response.content.decode()
    assert switcher(response)[0] == "fr"  # the browser's language is offered first


def test_an_unknown_or_unshipped_language_falls_back_to_the_event_then_english():
    request = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE="ja,zh;q=0.8")
    request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = "xx"
    assert i18n.participant_language(request, "fr") == "fr"
    assert i18n.participant_language(request, "") == "en"
    request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = "pt-BR"
    assert i18n.participant_language(request, "fr") == "pt"
    assert i18n.switcher_choices(request, "fr")[0]["code"] == "en"  # no shipped browser language
    assert i18n.browser_language("*, de-AT;q=0.5") == "de"


def test_a_case_records_the_language_it_is_written_in():
    assert make_case().language == "en"
    assert make_case(language="fr").language == "fr"


def test_the_report_marks_the_cases_text_with_the_language_it_is_written_in(client):
    from tests.factories import build_world

    world = build_world(opened=True, question="¿Cuál es el siguiente tratamiento?", case={"language": "es"})
    client.force_login(world.moderator)
    page = client.get(f"/e/{world.code}/report/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span lang="es">¿Cuál es el siguiente tratamiento?</span>' in page
    assert re.search(r'<dd><span lang="es">[^<]+</span></dd>', page)  # the case summary's texts
    # The phrases the report writes itself are the reader's, not marked with the case's language.
    assert re.search(r"<dd>\d+-year-old (?:man|woman|patient)</dd>", page)
    # The interface follows the reader (LocaleMiddleware), the case's text keeps its own.
    german = client.get(f"/e/{world.code}/report/", HTTP_ACCEPT_LANGUAGE="de")
    assert html_lang(german) == "de" and '<span lang="es">¿Cuál es el siguiente tratamiento?</span>' in german.text


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("es", "Únase a una discusión de caso"),
        ("fr", "Rejoindre une discussion de cas"),
        ("de-CH,de;q=0.9", "An einer Fallbesprechung teilnehmen"),
        ("pt-BR", "Participe de uma discussão de caso"),
        ("ja", "Join a case discussion"),
    ],
)
def test_the_landing_page_speaks_the_browsers_language(client, accept, expected):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    assert expected in response.content.decode()
    assert html_lang(response) == (accept[:2] if accept != "ja" else "en")


def test_the_credit_page_and_a_wrong_code_are_translated(client):
    event = make_event(status="live", credit_hours=1)
    page = client.get(f"/e/{event.code}/claim/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Fortbildungspunkte können beantragt werden, sobald die Veranstaltung beendet ist." in page
    page = client.get("/", {"code": "NOPE99"}, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Aucun événement n’utilise ce code." in page


def test_an_ended_event_thanks_its_phones_in_the_events_language(client):
    event = make_event(status="ended", language="pt", followup_days=30)
    page = client.get(f"/e/{event.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Este evento foi encerrado" in page and "Receber um acompanhamento em 30 dias" in page


def test_the_page_carries_the_javascript_catalogue_of_its_language(client, spanish_event):
    event, _ = spanish_event
    page = client.get(f"/e/{event.code}/").content.decode()
    catalogue = json.loads(re.search(r'id="i18n-catalog" type="application/json">(.*?)</script>', page)[1])
    assert catalogue["language"] == "es" and catalogue["plural"].startswith("nplurals=2")
    assert catalogue["messages"]["Connecting…"] == "Conectando…"
    assert catalogue["messages"]["Your answer is %(over)s character too long (at most %(limit)s)."] == [
        "Su respuesta tiene %(over)s carácter de más (máximo %(limit)s).",
        "Su respuesta tiene %(over)s caracteres de más (máximo %(limit)s).",
    ]
    # Only the project's messages, not Django admin's: the page carries what its modules use.
    assert "Filter" not in catalogue["messages"]
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '"messages": {}' in english  # English is the msgids themselves


def test_the_language_cookie_is_server_only_and_lax(client, spanish_event):
    event, _ = spanish_event
    response = choose(client, "fr", f"/e/{event.code}/")
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "fr" and cookie["httponly"] and cookie["samesite"] == "Lax"
