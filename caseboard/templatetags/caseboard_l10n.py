"""Numbers for the reader's language in server-rendered pages (issue 18, docs/i18n.md).

`percent` writes a share as the language writes it: "42.5%" in English, "42,5 %" in French and
German (a no-break space), "42,5%" in Portuguese. The number goes through Django's localized
number format, the sign's placement through the catalogue, as static/js/i18n.js's formatPercent
does with Intl on the live pages.

`page_counter_css` gives the PDF's running footer ("Page 2 of 5") as a CSS `content` value, since
the page numbers are CSS counters that only WeasyPrint knows.
"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

from caseboard.i18n import format_percent

register = template.Library()


@register.filter
def percent(value, decimals=None):
    """A share in percent (42.5 -> "42.5%"); "" for None or a value that is not a number."""
    if value is None or value == "":
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return format_percent(number, None if decimals is None else int(decimals))


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ") + '"'


@register.simple_tag
def page_counter_css() -> str:
    """ "Page 2 of 5" for an @page margin box: the translated sentence around CSS counters."""
    # Translators: the PDF's footer; keep %(page)s and %(pages)s.
    sentence = gettext("Page %(page)s of %(pages)s")
    marked = sentence.replace("%(pages)s", "\x00pages\x00").replace("%(page)s", "\x00page\x00")
    parts = []
    for index, piece in enumerate(marked.split("\x00")):
        if index % 2:  # between two markers: a counter's name
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(_css_string(piece))
    # Inside <style>, where HTML escapes are not read: the template writes it within
    # {% autoescape off %}; the catalogue is ours, and a "<" is a CSS escape all the same.
    return " ".join(parts)
