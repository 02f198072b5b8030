"""The translation check of `make test` (issue 18, docs/i18n.md).

1. The catalogues are complete: `makemessages`, run on a copy of the sources, finds exactly the
   messages the shipped .po files hold, every shipped language translates each of them (no
   empty or fuzzy entry), and the compiled .mo files match their .po (`make install` compiles).
2. A converted file has no user-facing text outside the machinery: CONVERTED lists the templates
   and JavaScript modules already converted; every file joins it when it is converted, and
   docs/i18n.md says which are not yet.
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
DOMAINS = ("django", "djangojs")

# Files whose every user-facing string goes through the translation machinery. Add a file here
# when it is converted (docs/i18n.md lists those still to do).
CONVERTED = [
    "templates/base.html",
    "templates/_language_switch.html",
    "templates/polls/landing.html",
    "templates/polls/ended.html",
    "templates/registration/login.html",
    "templates/polls/credit/claim.html",
    "templates/polls/credit/certificate.html",
    "templates/polls/followup/signup.html",
    "templates/polls/followup/thanks.html",
    "templates/polls/followup/closed.html",
    "templates/polls/followup/unsubscribe.html",
    "templates/polls/participant.html",
    "templates/polls/presenter.html",
    "templates/polls/moderator.html",
    "templates/polls/_questions_moderator.html",
    "templates/polls/_questions_participant.html",
    "templates/polls/_questions_presenter.html",
    "templates/polls/_disclosures.html",
    "templates/polls/not_panelist.html",
    "templates/polls/panel_link_invalid.html",
    "templates/polls/report/report.html",
    "templates/polls/report/outcomes.html",
    "templates/polls/report/recap.html",
    "templates/polls/report/recap_edit.html",
    "templates/400.html",
    "templates/403.html",
    "templates/404.html",
    "templates/500.html",
    "templates/registration/locked_out.html",
    "templates/polls/followup/answer.html",
    "templates/polls/credit/certificate_pdf.html",
    "static/js/i18n.js",
    "static/js/live.js",
    "static/js/ballot-base.js",
    "static/js/ballot-ranking.js",
    "static/js/ballot.js",
    "static/js/render.js",
    "static/js/questions.js",
    "static/js/questions-render.js",
    "static/js/participant.js",
    "static/js/presenter.js",
    "static/js/stage.js",
    "static/js/profile.js",
    "static/js/moderator.js",
    "static/js/console-agenda.js",
    "static/js/console-findings.js",
    "static/js/console-now.js",
    "static/js/console-quickpoll.js",
    "static/js/console-stage.js",
    "static/js/charts.js",
    "static/js/comparisons.js",
    "static/js/dom.js",
    "static/js/flow.js",
    "static/js/presence.js",
]

# Words that are the same in every language: the product's name, file formats and the names of
# bibliographic identifiers (a PubMed ID is "PMID" in every language).
UNTRANSLATED_WORDS = {"Caseboard", "PDF", "Markdown", "PMID", "DOI"}


# ------------------------------------------------------------------ the .po files


PO_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: PO_ESCAPES.get(m[1], m[0]), text)


def parse_po(path: Path) -> dict:
    """msgid (or (msgid, msgid_plural)) -> {"msgstr": [...], "fuzzy": bool}; the header left out."""
    entries: dict = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        current = None
        fuzzy = False
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line)
            if match:
                current = match[1]
                fields[current] = ""
                line = match[2]
            if current and line.startswith('"'):
                fields[current] += unescape(line[1:-1])
        if not fields.get("msgid"):
            continue
        key = fields["msgid"] if "msgid_plural" not in fields else (fields["msgid"], fields["msgid_plural"])
        if "msgctxt" in fields:
            key = (fields["msgctxt"], key)
        strings = [value for name, value in sorted(fields.items()) if name.startswith("msgstr")]
        entries[key] = {"msgstr": strings, "fuzzy": fuzzy}
    return entries


def po_path(root: Path, language: str, domain: str) -> Path:
    return root / "locale" / language / "LC_MESSAGES" / f"{domain}.po"


@pytest.fixture(scope="module")
def fresh_catalogues(tmp_path_factory) -> Path:
    """makemessages on a copy of the sources (so the repository's files are not rewritten)."""
    copy = tmp_path_factory.mktemp("sources")
    for name in ("caseboard", "polls", "cases", "templates", "locale"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copytree(ROOT / "static" / "js", copy / "static" / "js")
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    env = {
        **os.environ,
        "CASEBOARD_LOCAL": "1",
        "PYTHONPATH": str(copy),
        "DJANGO_SETTINGS_MODULE": "caseboard.settings",
    }
    for domain in DOMAINS:
        command = [sys.executable, "manage.py", "makemessages", "-d", domain, "--no-obsolete", "-v", "0"]
        command += [arg for language in SHIPPED for arg in ("-l", language)]
        subprocess.run(command, cwd=copy, env=env, check=True, capture_output=True, timeout=300)
    return copy


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", SHIPPED)
def test_makemessages_is_up_to_date_and_every_message_is_translated(fresh_catalogues, language, domain):
    shipped = parse_po(po_path(ROOT, language, domain))
    found = parse_po(po_path(fresh_catalogues, language, domain))
    missing = sorted(map(str, set(found) - set(shipped)))
    stale = sorted(map(str, set(shipped) - set(found)))
    assert not missing, f"run makemessages (docs/i18n.md): {language} {domain}.po lacks {missing}"
    assert not stale, f"run makemessages --no-obsolete: {language} {domain}.po still has {stale}"
    untranslated = sorted(str(key) for key, entry in shipped.items() if entry["fuzzy"] or not all(entry["msgstr"]))
    assert not untranslated, f"{language} {domain}.po: translate (and unmark fuzzy) {untranslated}"


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", SHIPPED)
def test_the_compiled_catalogue_matches_its_po(language, domain):
    """`make install` runs compilemessages; a stale .mo would show yesterday's words."""
    mo = po_path(ROOT, language, domain).with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `make install` (compilemessages)"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    for key, entry in parse_po(po_path(ROOT, language, domain)).items():
        plural = len(entry["msgstr"]) > 1
        if plural and isinstance(key[1], tuple):  # (msgctxt, (msgid, msgid_plural))
            msgid = f"{key[0]}\x04{key[1][0]}"
        elif plural:  # (msgid, msgid_plural)
            msgid = key[0]
        elif isinstance(key, tuple):  # (msgctxt, msgid): gettext keys it "context\x04msgid"
            msgid = f"{key[0]}\x04{key[1]}"
        else:
            msgid = key
        if plural:
            for index, text in enumerate(entry["msgstr"]):
                assert compiled.get((msgid, index)) == text, f"{mo} is stale: run `make install`"
        else:
            assert compiled.get(msgid) == entry["msgstr"][0], f"{mo} is stale: run `make install`"


def test_the_po_parser_reads_plurals_and_flags_fuzzy_entries(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr "Plural-Forms: nplurals=2;\\n"\n\n#, fuzzy\nmsgid "Vote"\nmsgstr "Voto"\n\n'
        'msgid "%s day"\nmsgid_plural "%s days"\nmsgstr[0] "%s d\u00eda \\"x\\""\nmsgstr[1] ""\n',
        encoding="utf-8",
    )
    entries = parse_po(po)
    assert entries["Vote"] == {"msgstr": ["Voto"], "fuzzy": True}
    assert entries[("%s day", "%s days")]["msgstr"] == ['%s d\u00eda "x"', ""]


# ------------------------------------------------------------------ strings outside the machinery

TEMPLATE_NOISE = [
    r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}",
    r"{#.*?#}",
    # The page's class names and attributes (base.html's body_class, body_attrs) are not text.
    r"{%\s*block\s+body_(?:class|attrs)\s*%}.*?{%\s*endblock\s*%}",
    r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}",
    r"<script\b.*?</script>",
    r"<style\b.*?</style>",
    r"{%.*?%}",
    r"{{.*?}}",
]
TEXT_ATTRIBUTES = r'\b(?:aria-label|aria-description|title|placeholder|alt)="([^"]*)"'


def has_words(text: str) -> bool:
    words = [w for w in re.findall(r"[^\W\d_]{2,}", text) if w not in UNTRANSLATED_WORDS]
    return bool(words)


def template_strings(source: str) -> list[str]:
    """Text a reader sees that is not a translation tag or a variable."""
    for pattern in TEMPLATE_NOISE:
        source = re.sub(pattern, " ", source, flags=re.S)
    found = [text.strip() for text in re.findall(r">([^<]+)<", source) if has_words(text)]
    found += [value for value in re.findall(TEXT_ATTRIBUTES, source) if has_words(value)]
    # Text before the first tag or after the last (a template that is a fragment).
    return found


JS_STRING = r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)"""
# Where a literal surely reaches the screen.
JS_TEXT_SINKS = [
    r"\.textContent\s*=\s*" + JS_STRING,
    r"\btext:\s*" + JS_STRING,
    r"""setAttribute\(\s*["'](?:aria-label|title|placeholder|alt)["']\s*,\s*""" + JS_STRING,
]
# Where a literal probably does when it reads like prose (a capital, then lower case: "Live",
# "Waiting for the network"), not like a protocol value ("POST", "same-origin").
JS_PROSE_SINKS = [
    r"\b(?:title|label|message|status|hint)\s*:\s*" + JS_STRING,
    r"^\s*[a-z]\w*:\s*" + JS_STRING + r",?\s*$",  # a table of texts (e.g. { live: "Live" })
]
PROSE = re.compile(r"^[\W\d]*[A-Z][a-z]")


def js_strings(source: str) -> list[str]:
    """String literals a module puts on screen: to textContent, `text:`, label attributes."""
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.S)
    source = re.sub(r"^\s*//.*$", " ", source, flags=re.M)
    found = []
    for patterns, prose_only in ((JS_TEXT_SINKS, False), (JS_PROSE_SINKS, True)):
        for pattern in patterns:
            for literal in re.findall(pattern, source, flags=re.M):
                text = re.sub(r"\$\{.*?\}", " ", literal[1:-1])
                if has_words(text) and (not prose_only or PROSE.match(text)) and literal not in found:
                    found.append(literal)
    return found


def test_the_extractors_find_a_bare_string_and_accept_the_machinery():
    assert template_strings('<p class="x">Vote now</p>') == ["Vote now"]
    assert template_strings('<button aria-label="Close">×</button>') == ["Close"]
    assert template_strings('<p>{% translate "Vote now" %}</p><a title="{% translate "Close" %}">') == []
    assert template_strings("<p>{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}</p>") == []
    assert template_strings("<title>{{ event.title }} · Caseboard</title>") == []
    assert template_strings('<link href="x">{% block body_class %}page page-x{% endblock %}<p>') == []
    assert js_strings('node.textContent = "Waiting";') == ['"Waiting"']
    assert js_strings("h('p', { text: `Round ${n}` })") == ["`Round ${n}`"]
    assert js_strings('const T = {\n  live: "Live",\n};') == ['"Live"']
    assert js_strings('node.textContent = gettext("Waiting"); h("p", { text: interpolate(x, [n]) })') == []
    assert js_strings('el.textContent = `${count}`; el.setAttribute("aria-label", label)') == []
    assert js_strings('fetch(url, {\n  method: "POST",\n  credentials: "same-origin",\n})') == []


@pytest.mark.parametrize("path", CONVERTED)
def test_a_converted_file_shows_no_string_outside_the_translation_machinery(path):
    source = (ROOT / path).read_text(encoding="utf-8")
    found = template_strings(source) if path.endswith(".html") else js_strings(source)
    assert not found, f"{path}: wrap these in {{% translate %}} or gettext() (docs/i18n.md): {found}"


# ------------------------------------------------------------------ right-to-left layout

# Declarations that name a physical side: in a right-to-left page they stay on the left or the
# right where the layout means "start" or "end" (margin-inline-start, inset-inline-start,
# text-align: start … mirror by themselves).
PHYSICAL_SIDES = re.compile(
    r"(?<![\w-])(?:(?:margin|padding|border)-(?:left|right)(?:-\w+)*|left|right)\s*:"
    r"|text-align\s*:\s*(?:left|right)\b|float\s*:\s*(?:left|right)\b"
)
# (file, selector) pairs allowed to name a side, with the reason.
PHYSICAL_ALLOWED = {
    # The rating scale is a number line (low to high from the left in every direction, its
    # ticks `direction: ltr`): charts.js places the mean and median markers with style.left.
    ("charts.css", ".scale-ticks"): "number line",
    ("charts.css", ".scale-track"): "number line",
    ("charts.css", ".scale-end-low"): "number line",
    ("charts.css", ".scale-end-high"): "number line",
    ("charts.css", ".scale-marker"): "number line: left is set from JavaScript",
    ("charts.css", ".scale-median"): "number line",
    ("charts.css", ".scale-marker-label"): "number line",
    ("charts.css", ".scale-marker.is-right .scale-marker-label"): "number line",
}


def physical_declarations(css: str) -> list[tuple[str, str]]:
    """(selector, declaration) for each declaration naming a physical side."""
    css = re.sub(r"/\*.*?\*/", " ", css, flags=re.S)
    found = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        for declaration in body.split(";"):
            if PHYSICAL_SIDES.search(declaration):
                found.append((" ".join(selector.split()), declaration.strip()))
    return found


def test_the_physical_side_check_finds_left_and_right_and_accepts_logical_properties():
    assert physical_declarations(".a { margin-left: 1rem; text-align: right }") == [
        (".a", "margin-left: 1rem"),
        (".a", "text-align: right"),
    ]
    assert physical_declarations(".b { border-left-color: red; left: 0 }") == [
        (".b", "border-left-color: red"),
        (".b", "left: 0"),
    ]
    logical = ".c { margin-inline-start: 1rem; inset-inline-start: 0; text-align: start; float: inline-end }"
    assert physical_declarations(logical) == []
    assert physical_declarations("@media (min-width: 1px) { .d { padding-right: 1px } }") == [
        (".d", "padding-right: 1px")
    ]


@pytest.mark.parametrize("path", sorted((ROOT / "static" / "css").glob("*.css")), ids=lambda p: p.name)
def test_app_css_uses_logical_sides_so_a_right_to_left_page_mirrors(path):
    found = [
        f"{selector} {{ {declaration} }}"
        for selector, declaration in physical_declarations(path.read_text(encoding="utf-8"))
        if (path.name, selector) not in PHYSICAL_ALLOWED
    ]
    assert not found, f"{path.name}: use logical properties (margin-inline-start, text-align: start …): {found}"
