"""The page language per role, and the JavaScript catalogue rendered into every page (issue 18).

Who decides a page's language (docs/i18n.md):
- a participant's phone: the event's language, until the phone picks another with the switcher
  (Django's set_language view keeps the choice in its language cookie);
- the projector: the event's language, always (the room reads one screen);
- the console and every other page: the reader's own choice (the same cookie), else the browser's
  Accept-Language, as Django's LocaleMiddleware decides.

The JavaScript gets its messages from the same .po files (domain djangojs): the server renders the
catalogue of the page's language into the page as JSON (base.html), and static/js/i18n.js reads
it. There is no second, hand-written dictionary.
"""

from __future__ import annotations

import gettext as gettext_module
from functools import lru_cache

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import pgettext, to_locale
from django.utils.translation.trans_real import parse_accept_lang_header


def supported(code: str | None) -> str | None:
    """The shipped language for a code ("pt-BR" gives "pt"), or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def chosen_language(cookies) -> str | None:
    """The language a reader picked with the switcher (Django's language cookie), if any."""
    return supported(cookies.get(settings.LANGUAGE_COOKIE_NAME))


def browser_language(accept_language: str) -> str | None:
    """The first shipped language of an Accept-Language header, or None."""
    for code, _quality in parse_accept_lang_header(accept_language or ""):
        if code == "*":
            continue
        found = supported(code)
        if found:
            return found
    return None


def participant_language(request, event_language: str) -> str:
    """A phone follows the event until its reader picks another language."""
    return chosen_language(request.COOKIES) or supported(event_language) or settings.LANGUAGE_CODE


def use_language(request, code: str) -> None:
    """Render this response in `code`: LocaleMiddleware then labels it (Content-Language)."""
    translation.activate(code)
    request.LANGUAGE_CODE = code


def switcher_choices(request, current: str) -> list[dict]:
    """The switcher's languages: the phone's own first (what most readers look for), then the rest
    in the settings' order. Each name is in its own language."""
    browser = browser_language(request.headers.get("Accept-Language", ""))
    names = dict(settings.LANGUAGES)
    order = [browser] if browser else []
    order += [code for code, _name in settings.LANGUAGES if code != browser]
    return [
        {"code": code, "name": names[code], "current": code == current, "browser": code == browser} for code in order
    ]


@lru_cache(maxsize=len(settings.LANGUAGES) + 1)
def catalog_for(language: str) -> dict:
    """The djangojs messages of one language, as static/js/i18n.js reads them.

    Only the project's own compiled catalogue (LOCALE_PATHS), not Django's admin messages: the
    page carries what its modules use. `plural` is the Plural-Forms header; i18n.js picks a form with
    Intl.PluralRules (the CSP forbids evaluating the formula), which agrees with the headers the
    shipped .po files use (docs/i18n.md).
    """
    messages: dict = {}
    plurals: dict = {}
    plural_forms = ""
    for localedir in settings.LOCALE_PATHS:
        try:
            compiled = gettext_module.translation("djangojs", localedir, [to_locale(language)])
        except FileNotFoundError:
            continue  # English: the msgids are the texts
        for key, value in compiled._catalog.items():
            if key == "":
                plural_forms = plural_forms or next(
                    (line.split(":", 1)[1].strip() for line in value.split("\n") if line.startswith("Plural-Forms:")),
                    "",
                )
            elif isinstance(key, tuple):
                msgid, index = key
                plurals.setdefault(msgid, {}).setdefault(index, value)
            else:
                messages.setdefault(key, value)
    for msgid, forms in plurals.items():
        messages.setdefault(msgid, [forms[i] for i in sorted(forms)])
    # Untranslated entries (msgstr "") are left out: i18n.js then shows the English msgid.
    messages = {key: value for key, value in messages.items() if value and value != [""] * len(value)}
    return {"language": language, "plural": plural_forms, "messages": messages}


def javascript_catalog(request) -> dict:
    """Context processor: the catalogue of the language the page renders in (base.html)."""
    return {"js_catalog": catalog_for(translation.get_language() or settings.LANGUAGE_CODE)}


def format_percent(number: float, decimals: int | None = None) -> str:
    """A share in percent for the active language: "42.5%", "42,5 %" (French, German, Spanish:
    a no-break space), "42,5%" (Portuguese). The number is Django's localized format, the sign's
    place the catalogue's, as formatPercent (static/js/i18n.js) does with Intl on the live pages."""
    if decimals is None and float(number).is_integer():
        number = int(number)
    text = formats.number_format(number, decimals, use_l10n=True)
    # Translators: a percentage; French, German and Spanish put a no-break space before the sign.
    return pgettext("percent", "%(number)s%%") % {"number": text}
