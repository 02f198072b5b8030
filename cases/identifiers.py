"""A guard against patient identifiers in case text: HIPAA Safe Harbor's identifiers, found by rules.

Cases come from real patients, and an author pastes from a clinic letter in a hurry: "John Smith,
MRN 4471923, DOB 03/14/1928" was once accepted by the case form without a word. This module finds
such text before it reaches a projector; what is done with a finding (refuse, ask for an
acknowledgement) is the caller's.

Built on Microsoft Presidio's recognizers (presidio-analyzer), used without its NLP engine: no
language model is downloaded or loaded, every finding comes from a pattern, a checksum or the
phonenumbers library. Presidio's own recognizers cover e-mail addresses, telephone and fax numbers,
URLs, IP addresses, US social security numbers, DEA numbers and numeric dates; the classes Presidio
leaves to a language model or does not have (names, ages over 89, record and account numbers,
addresses, device and vehicle ids, dates written with a month's name) are Presidio
`PatternRecognizer`s defined here. Measured on tests/cases/data/identifiers.tsv, a synthetic set of
clinical sentences with and without identifiers (README: "A guard against patient identifiers").

What it deliberately lets through: the year alone, ages up to 89, relative time ("6 years ago"),
trial registry numbers (NCT...), staging and scores. Safe Harbor allows the first three; the others
identify no one.

Nothing found here is ever logged: callers report the kind and place of a finding to the author
who wrote it, never to a log.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass

from django.conf import settings

# What each kind is called where an author reads it.
KINDS: dict[str, str] = {
    "name": "a person's name",
    "date": "a date finer than the year",
    "age": "an age over 89",
    "phone": "a telephone or fax number",
    "email": "an e-mail address",
    "record": "a record, account, plan or licence number",
    "address": "an address, town or ZIP code",
    "url": "a web address",
    "ip": "an IP address",
    "device": "a device, serial or vehicle identifier",
}


@dataclass(frozen=True)
class Finding:
    kind: str  # a key of KINDS
    start: int
    end: int

    @property
    def description(self) -> str:
        return KINDS[self.kind]


MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
US_STATES = (
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|"
    "Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|"
    "Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|"
    "New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|"
    "South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|"
    "Wisconsin|Wyoming"
)
STATE_CODES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|"
    "NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC"
)
STREET_TYPES = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|"
    r"Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq"
)
CAPITALISED = r"[A-Z][a-z'’\-]+"

# Common given names (US Social Security and census lists, and frequent names elsewhere): a
# capitalised pair starting with one of these is read as a person's name. Words that are also
# clinical or calendar words (Grace, Hope, June, May, Faith) are left out: better a name missed
# by this rule than every "May" flagged; the honorific and label rules still catch them.
GIVEN_NAMES = frozenset(
    """
    Aaron Abigail Adam Adrian Ahmed Aisha Alan Albert Alejandro Alex Alexander Alexandra Ali Alice
    Alicia Amanda Amber Amy Ana Andrea Andrew Angela Ann Anna Anne Anthony Antonio Arthur Ashley
    Barbara Benjamin Betty Beverly Bill Billy Bobby Bonnie Brandon Brenda Brian Bruce Bryan Carl
    Carlos Carmen Carol Caroline Catherine Charles Charlotte Cheryl Chris Christian Christina
    Christine Christopher Cynthia Daniel Danielle David Dean Deborah Debra Dennis Diana Diane Donald
    Donna Doris Dorothy Douglas Dylan Edward Elena Elizabeth Ellen Emily Emma Eric Ethan Eugene Evelyn
    Fatima Frances Francis Frank Gabriel Gary George Gerald Gloria Gregory Hannah Harold Heather
    Helen Henry Isabella Jack Jacob Jacqueline James Jane Janet Janice Jason Javier Jean Jeffrey
    Jennifer Jeremy Jerry Jesse Jessica Joan Joe John Jonathan Jorge Jose Joseph Joshua Joyce Juan
    Judith Judy Julia Julie Justin Karen Katherine Kathleen Kathryn Keith Kelly Kenneth Kevin
    Kimberly Kyle Larry Laura Lauren Lawrence Linda Lisa Lori Louis Lucas Luis Margaret Maria Marie
    Marilyn Mark Martha Martin Mary Matthew Megan Melissa Michael Michelle Miguel Mohammed Muhammad
    Nancy Natalie Nathan Nicholas Nicole Noah Olivia Pamela Patricia Patrick Paul Peter Philip
    Rachel Ralph Randy Raymond Rebecca Richard Robert Roger Ronald Rose Roy Russell Ruth Ryan Samuel
    Sandra Sara Sarah Scott Sean Sharon Shirley Sophia Stephanie Stephen Steven Susan Teresa Terry
    Thomas Timothy Tyler Victoria Vincent Virginia Walter Wayne William Willie Zachary Wei Yan Li
    Priya Raj Rahul Anil Sunil Mei Hiroshi Yuki Kenji Olga Ivan Dmitri Sergei Hans Klaus Pierre
    Jean-Pierre Giovanni Marco Luca Francesca Giulia Sofia Lucia Pablo Diego Carmen Omar Hassan
    Yusuf Ibrahim Kwame Kofi Amara Chinedu Ngozi Oluwaseun
    """.split()
)


def warm() -> None:
    """Load the recognizers now (Presidio imports spaCy: seconds of CPU and about 75 MB). Tools
    that read many texts call it first; a live server does not: it reads stored scans."""
    _recognizers()


@functools.cache
def _recognizers() -> list[tuple[str, object]]:
    """(kind, recognizer) pairs, built once per process, on first use: importing Presidio imports
    spaCy (seconds), which no page but an author's save should wait for."""
    # Presidio says "Loaded recognizer ..." at INFO for each; nothing a server log needs.
    logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)
    import tldextract
    from presidio_analyzer import Pattern, PatternRecognizer
    from presidio_analyzer.predefined_recognizers import (
        DateRecognizer,
        EmailRecognizer,
        IpRecognizer,
        MedicalLicenseRecognizer,
        PhoneRecognizer,
        UrlRecognizer,
        UsSsnRecognizer,
    )

    class OfflineEmailRecognizer(EmailRecognizer):
        """Presidio's e-mail recognizer, checking the domain against the public-suffix list that
        ships with tldextract: the default fetches that list from the internet on first use,
        which a server (or a CI machine) without outbound access waits out."""

        domains = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)

        def validate_result(self, pattern_text: str) -> bool:
            return self.domains(pattern_text).fqdn != ""

    def _recognizer(kind: str, *patterns: tuple[str, str], context: list[str] | None = None):
        return PatternRecognizer(
            supported_entity=kind,
            name=f"caseboard-{kind}",
            patterns=[Pattern(name=f"{kind}-{name}", regex=regex, score=0.9) for name, regex in patterns],
            context=context,
            # Presidio's default flags include IGNORECASE, which would make every capitalised-word
            # rule match any word; rules that want it say (?i:...) themselves.
            global_regex_flags=re.DOTALL | re.MULTILINE,
        )

    custom = [
        _recognizer(
            "name",
            ("honorific", rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sr|Sra)\.?\s+{CAPITALISED}(?:\s+{CAPITALISED})?"),
            (
                "label",
                rf"(?i:\b(?:name|named|called|patient|pt|son|daughter|wife|husband|mother|father|sister|"
                rf"brother|partner|spouse|caregiver|carer|relative|employer|neighbou?r))\b[:\s]+(?:is\s+)?"
                rf"{CAPITALISED}(?:\s+{CAPITALISED})?",
            ),
            ("initial-surname", r"\b[A-Z]\.\s?(?:[A-Z]\.\s?)?[A-Z][a-z]{2,}(?:-[A-Z][a-z]+)?\b"),
            ("surname-comma-given", rf"\b[A-Z][a-z]{{2,}},\s+(?:{'|'.join(sorted(GIVEN_NAMES))})\b"),
            ("given-surname", rf"\b(?:{'|'.join(sorted(GIVEN_NAMES))})\s+(?:[A-Z]\.\s+)?[A-Z][a-z'’\-]{{2,}}\b"),
        ),
        _recognizer(
            "date",
            ("day-month-year", rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\.?,?\s+\d{{2,4}}\b"),
            ("month-day-year", rf"\b{MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}}\b"),
            ("month-day", rf"(?i:\b(?:on|since|from|until|born|dob))\s+{MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b"),
            (
                "day-month",
                rf"(?i:\b(?:on|since|from|until|born|dob))\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\b",
            ),
            (
                "month-year",
                rf"\b(?i:in|on|since|from|until|by|during|born|admitted|discharged)\s+{MONTHS}\.?\s+(?:of\s+)?(?:19|20)\d{{2}}\b",
            ),
            ("dob", r"(?i:\b(?:DOB|D\.O\.B\.|date of birth|born)\b)[:\s]+\S+"),
            ("numeric", r"\b\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)?\d{2}\b"),
            ("iso", r"\b(?:19|20)\d{2}-\d{2}-\d{2}\b"),
        ),
        _recognizer(
            "age",
            ("years-old", r"\b(?:9\d|1[0-4]\d)(?:\s|-)?(?i:years?|yrs?|y)(?:\s|-)?(?i:old|o)?\b"),
            ("yo", r"\b(?:9\d|1[0-4]\d)\s?(?i:yo|y/o|y\.o\.)"),
            ("aged", r"(?i:\b(?:aged?|age of|at age))[:\s]+(?:9\d|1[0-4]\d)\b"),
            ("short", r"\b(?:9\d|1[0-4]\d)\s?(?:M|F|yM|yF)\b"),
            ("decade", r"(?i:\b(?:in (?:his|her|their) )?(?:nineties|hundreds)\b)"),
            ("nonagenarian", r"(?i:\b(?:nonagenarian|centenarian)\b)"),
        ),
        _recognizer(
            "record",
            (
                "labelled",
                r"(?i:\b(?:MRN|med(?:ical)? rec(?:ord)?s?(?: (?:no|number|#))?|record (?:no|number|#)|"
                r"hospital (?:no|number)|chart(?: no| number| #)?|acc(?:oun)?t(?: no| number| #)?|"
                r"account|member(?: id| no| number)?|policy(?: no| number)?|plan(?: id| no| number)|"
                r"health plan|beneficiary(?: id| no| number)?|insurance(?: id| no| number)?|"
                r"subscriber(?: id)?|medicaid|medicare|licen[cs]e(?: no| number| #)?|certificate(?: no| number)?|"
                r"NHS(?: no| number)?|SSN|social security(?: no| number)?|passport(?: no| number)?|"
                r"case (?:no|number|#)|encounter(?: id| no)?|visit (?:id|no)|accession(?: no| number)?))"
                r"\s*(?:is|was|:|#|no\.?|number)?\s*[:#]?\s*"
                # A value with at least one digit: 4471923, 88-12-4471, W2839 4411 02, 1EG4-TE5-MK72.
                r"(?=[A-Z\d\-]*\d)[A-Z\d][A-Z\d\-]{3,}(?:\s\d[\d\-]+)*",
            ),
            ("long-number", r"(?<![A-Za-z\d.,/])\d{7,}(?![\d.,/])"),
            ("hyphenated", r"\b\d{3}-\d{2}-\d{4}\b"),
            context=["record", "account", "mrn", "member", "policy", "insurance"],
        ),
        _recognizer(
            "address",
            ("street", rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:{CAPITALISED}\s+){{1,3}}(?:{STREET_TYPES})\b\.?"),
            ("po-box", r"(?i:\bP\.?\s?O\.?\s+Box\s+\d+)"),
            ("apartment", r"(?i:\b(?:apt|apartment|suite|unit)\b\.?\s*#?\s*\d+[A-Z]?)"),
            ("zip-after-state", rf"\b(?:{STATE_CODES}|{US_STATES})\s+\d{{5}}(?:-\d{{4}})?\b"),
            ("zip-labelled", r"(?i:\b(?:zip|postal|post)\s*code)\s*(?:is\s+|:\s*)?\d{5}(?:-\d{4})?\b"),
            ("zip-plus-four", r"\b\d{5}-\d{4}\b"),
            ("town-state", rf"\b{CAPITALISED}(?:\s+{CAPITALISED})?,\s+(?:{US_STATES}|(?:{STATE_CODES})\b)"),
            (
                "lives-in",
                rf"(?i:\b(?:lives|living|resides|residing|resident|moved|works?|employed))\s+(?i:in|at|near)\s+{CAPITALISED}",
            ),
            ("uk-postcode", r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b"),
        ),
        _recognizer(
            "device",
            (
                "labelled",
                r"(?i:\b(?:serial|device|implant|pacemaker|defibrillator|pump|port|lot|model|VIN|"
                r"vehicle|licen[cs]e plate|plate|registration)\b)\s*(?:id|no\.?|number|#|:)\s*[:#]?\s*"
                r"[A-Z0-9][A-Z0-9\-]{3,}",
            ),
            ("vin", r"\b[A-HJ-NPR-Z0-9]{17}\b"),
        ),
    ]
    builtin: list[tuple[str, object]] = [
        ("email", OfflineEmailRecognizer()),
        ("phone", PhoneRecognizer()),
        ("url", UrlRecognizer()),
        ("ip", IpRecognizer()),
        ("record", UsSsnRecognizer()),
        ("record", MedicalLicenseRecognizer()),
        ("date", DateRecognizer()),
    ]
    return builtin + [(recognizer.supported_entities[0], recognizer) for recognizer in custom]


# What no recognizer should report, whatever its pattern: registry and literature ids, and ranges
# of decimals that Presidio's date patterns would otherwise read as dates.
NOT_IDENTIFIERS = re.compile(
    r"\bNCT\d{8}\b|\bPMID:?\s*\d+\b|\b10\.\d{4,9}/\S+"
    r"|\b\d+\.\d+\s?[-–]\s?\d+\.\d+\b"  # a range of decimals (a confidence interval), not a date
)


def find_identifiers(text: str) -> list[Finding]:
    """Every stretch of `text` that looks like a patient identifier, in order, overlaps merged."""
    if not text or not text.strip():
        return []
    spared = [(m.start(), m.end()) for m in NOT_IDENTIFIERS.finditer(text)]
    found: list[Finding] = []
    for kind, recognizer in _recognizers():
        for result in recognizer.analyze(text, entities=recognizer.supported_entities, nlp_artifacts=None):
            if any(start <= result.start and result.end <= end for start, end in spared):
                continue
            found.append(Finding(kind, result.start, result.end))
    found.sort(key=lambda f: (f.start, -f.end))
    merged: list[Finding] = []
    for finding in found:
        if merged and finding.start < merged[-1].end:
            continue  # inside (or overlapping) one already reported: one finding per stretch
        merged.append(finding)
    return merged


def fingerprint(kind: str, flagged: str) -> str:
    """A keyed hash of a finding, to recognise it again without keeping its text.

    Keyed with the server's secret: a phone number has few enough values that a plain hash could
    be reversed by trying them all."""
    message = f"{kind}\x00{' '.join(flagged.split())}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


# Part of every stored scan's key: a change to what the recognizers find (a new pattern, a new
# exclusion) must bump it, so that texts are read again instead of trusting older scans.
GUARD_VERSION = 1


def _scan_digest(text: str) -> str:
    message = f"identifier-guard-{GUARD_VERSION}\x00{text}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def stored_findings(texts: list[str]) -> list[list[Finding]]:
    """find_identifiers of each text, read from the stored scans (cases.models.IdentifierScan)
    where the text was read before, and stored for the others: one query, and the recognizers
    (loaded only when a text is new) read each text once whichever process asks."""
    from cases.models import IdentifierScan  # models import this module's KINDS

    digests = [_scan_digest(text) if text and text.strip() else "" for text in texts]
    wanted = {digest for digest in digests if digest}
    stored = {
        scan.digest: [Finding(*finding) for finding in scan.findings]
        for scan in IdentifierScan.objects.filter(digest__in=wanted)
    }
    new: dict[str, list[Finding]] = {}
    for text, digest in zip(texts, digests, strict=True):
        if digest and digest not in stored and digest not in new:
            new[digest] = find_identifiers(text)
    if new:
        IdentifierScan.objects.bulk_create(
            [
                IdentifierScan(digest=digest, findings=[[f.kind, f.start, f.end] for f in found])
                for digest, found in new.items()
            ],
            ignore_conflicts=True,  # another process stored the same text meanwhile: the same findings
        )
    known = stored | new
    return [known[digest] if digest else [] for digest in digests]


def findings_in(texts: list[tuple[str, str]]) -> list[tuple[str, Finding, str]]:
    """(where, finding, fingerprint) for each finding in (where, text) pairs (stored scans)."""
    found = stored_findings([text for _, text in texts])
    return [
        (where, finding, fingerprint(finding.kind, text[finding.start : finding.end]))
        for (where, text), findings in zip(texts, found, strict=True)
        for finding in findings
    ]
