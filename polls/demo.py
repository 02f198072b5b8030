"""The demo event (join code CASE2) and its case, built idempotently for `manage.py load_demo`.

Writes here go straight through the ORM, not through `polls.services`: this is authoring and
seeding of content, not a live state change, so nothing is broadcast and nothing is audited.
Live state (poll state, revealed results, votes, the event's status) is never touched unless
the caller asks for a reset.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import models, transaction

from cases import services as case_services
from cases.models import Case, CaseFact, HistoryItem, Reference, Sex, StagingItem, TeachingPoint, TherapyLine
from polls import selectors
from polls.models import AgendaItem, Event, EventStatus, Option, Poll, PollKind, PollState, ProfileQuestion
from polls.profiles import built_in

DEMO_CODE = "CASE2"
DEMO_EVENT_TITLE = "Myeloma roundtable: sequencing at second relapse"
DEMO_USERNAME = "moderator"
ORGANISER_GROUP = "Case organisers"

# ------------------------------------------------------------------ content

CASE: dict[str, Any] = {
    "title": "Case Summary 2",
    "disease": "Multiple myeloma",
    "patient_age": 70,
    "patient_sex": Sex.MALE,
    "diagnosis": "IgG-lambda multiple myeloma",
    "years_since_diagnosis": 6,
    "ecog": 1,
    "current_status": (
        "His disease is progressing on DKd, so he is now at his second relapse. He has not yet "
        "received any BCMA-directed treatment. CAR T was raised at his first relapse but not "
        "pursued; he and his team are reopening that conversation."
    ),
    "clinical_question": "He is at second relapse: what would you recommend for him now?",
}

STAGING = [("R-ISS", "2"), ("R2-ISS", "III")]

HISTORY = ["Hypertension (well controlled)", "Peripheral neuropathy"]

THERAPY_LINES: list[dict[str, Any]] = [
    {
        "line_number": 1,
        "regimen": "VRd induction, autologous SCT, then lenalidomide maintenance",
        "agents": "bortezomib, lenalidomide, dexamethasone",
        "transplant": "Autologous stem cell transplant",
        "best_response": "VGPR after induction; VGPR after ASCT",
        "outcome": "Progressed on lenalidomide maintenance; CAR T discussed but not pursued",
    },
    {
        "line_number": 2,
        "regimen": "DKd",
        "agents": "daratumumab, carfilzomib, dexamethasone",
        "transplant": "",
        "best_response": "",
        "outcome": "Progression (second relapse); no BCMA-directed therapy so far",
    },
]

RECAP = "Roundtable recap (2025): sequencing therapy after a second relapse of multiple myeloma."

# Every statement carries its source: a primary publication where the recap (RECAP) cites one or
# where we checked it, the recap itself for what was said in the room, and "illustrative" for what
# was invented for teaching. A DOI or PMID is given only where it was checked against the
# publication; the others are left blank rather than guessed. Where the recap is wrong against a
# primary source, the source wins and the teaching point says so (the REMS date).
TEACHING_POINTS: list[dict[str, Any]] = [
    {
        "title": "Order of immunotherapies: IMWG guidance (2025)",
        "text": (
            "For a patient eligible for both, the International Myeloma Working Group advises giving a "
            "T-cell redirecting therapy before a BCMA-directed antibody–drug conjugate. Among T-cell "
            "redirecting options it places CAR T ahead of a BCMA bispecific antibody. Using a bispecific "
            "first and CAR T later is still acceptable when at least six months separate the two. Once the "
            "disease progresses on or soon after a BCMA-directed agent, move to a different antigen or "
            "mechanism. Which one is not the guidance's choice but the presenting faculty's: after a BCMA "
            "bispecific he prefers GPRC5D-directed talquetamab, as a bridge to CAR T and as a line of its own."
        ),
        "references": [
            {
                "citation": (
                    "International Myeloma Working Group guidance on sequencing T-cell redirecting therapies "
                    "and antibody–drug conjugates in relapsed multiple myeloma. Leukemia, 2025."
                ),
            },
            {"citation": RECAP + " The faculty's own preference for talquetamab after a BCMA bispecific."},
        ],
    },
    {
        "title": "KarMMa-3: ide-cel against standard regimens",
        "text": (
            "KarMMa-3 randomised patients with two to four prior lines, exposed to a proteasome inhibitor, an "
            "immunomodulatory drug and daratumumab, to idecabtagene vicleucel (ide-cel) or a standard regimen. "
            "Overall response was 71% with ide-cel and 42% with standard care (odds ratio 3.36; 95% CI "
            "2.17–5.22); stringent complete response was 26% against 5%. Read the comparison with care: the "
            "standard regimens in the control arm may not match the strongest options available today."
        ),
        "references": [
            {
                "citation": (
                    "Rodriguez-Otero P, Ailawadhi S, Arnulf B, et al. Ide-cel or standard regimens in relapsed "
                    "and refractory multiple myeloma (KarMMa-3). N Engl J Med. 2023;388(11):1002-1014."
                ),
                "nct": "NCT03651128",
            },
        ],
    },
    {
        "title": "CARTITUDE-4: cilta-cel from first relapse",
        "text": (
            "CARTITUDE-4 randomised 419 patients with lenalidomide-refractory myeloma after one to three "
            "prior lines to ciltacabtagene autoleucel (cilta-cel) or standard care, and its updated analysis "
            "framed this discussion. Choosing a CAR T product at second relapse, the group favoured cilta-cel "
            "over ide-cel, although ide-cel is approved at this point. The discussion quoted no CARTITUDE-4 "
            "response rates: take any figures from the trial publications themselves."
        ),
        "references": [
            {
                "citation": (
                    "San-Miguel J, Dhakal B, Yong K, et al. Cilta-cel or standard care in "
                    "lenalidomide-refractory multiple myeloma (CARTITUDE-4). N Engl J Med. 2023;389:335-347."
                ),
                "nct": "NCT04181827",
                "doi": "10.1056/NEJMoa2303379",
            },
            {"citation": RECAP},
        ],
    },
    {
        "title": "CAR T without REMS (FDA, June 2025)",
        "text": (
            "On 26 June 2025 the FDA eliminated the Risk Evaluation and Mitigation Strategies (REMS) for the "
            "approved BCMA- and CD19-directed autologous CAR T products. Patients previously had to stay close "
            "to the treating centre for 30 days; the updated labels ask for a shorter stay. For someone living "
            "hours from a CAR T centre, that removes a real obstacle, and it is a reason to raise referral "
            "early. (The recap dates the change to July 2025; the FDA's own communication is of 26 June.)"
        ),
        "references": [
            {
                "citation": (
                    "US Food and Drug Administration. FDA eliminates Risk Evaluation and Mitigation Strategies "
                    "(REMS) for autologous chimeric antigen receptor (CAR) T cell immunotherapies. FDA Safety "
                    "Communication, 26 June 2025."
                ),
            },
        ],
    },
    {
        "title": "Preventing infection after CAR T",
        "text": (
            "One centre's routine after CAR T: acyclovir and PJP (Pneumocystis jirovecii pneumonia) "
            "prophylaxis for about a year; regular immunoglobulin replacement, moving from intravenous to "
            "subcutaneous where coverage allows; and G-CSF started earlier than was once usual. Before any "
            "BCMA-directed therapy, check antibody titres against specific infections, since they cannot be "
            "interpreted once IVIG has started."
        ),
        "references": [{"citation": RECAP}],
    },
]

POLLS: list[dict[str, Any]] = [
    {
        "question": "What would you recommend for this patient at second relapse?",
        "options": ["Refer for CAR T", "Bispecific on a clinical trial", "Conventional doublet or triplet", "Other"],
        "preferred": ["Refer for CAR T"],
        "preferred_rationale": (
            "He has had no BCMA-directed therapy yet, and IMWG guidance (2025) places CAR T ahead of a BCMA "
            "bispecific. A bispecific first would not rule CAR T out: with six months or more between them, "
            "CAR T's results are not meaningfully compromised."
        ),
    },
    {
        "question": "How likely are you to refer patients like this for CAR T at second relapse?",
        "kind": PollKind.LIKERT,
        "options": ["Very unlikely", "Somewhat unlikely", "Unsure", "Somewhat likely", "Very likely"],
    },
    {
        "question": "After a BCMA bispecific, how many months would you wait before CAR T?",
        "kind": PollKind.NUMERIC,
        "options": [],
        "numeric": {"numeric_min": 0, "numeric_max": 24, "numeric_unit": "months"},
    },
    {
        "question": "Rank these options for his next line of therapy",
        "kind": PollKind.RANKING,
        "options": [
            "Cilta-cel (CAR T)",
            "BCMA bispecific",
            "Talquetamab (GPRC5D bispecific)",
            "Belantamab combination",
        ],
    },
    {
        "question": "What most often stops you referring a patient for CAR T?",
        "kind": PollKind.TEXT,
        "options": [],
    },
]

# A case item the moderator reveals mid-discussion.
HIDDEN_FACTS: list[dict[str, Any]] = [
    {
        # Invented for teaching (the recap's travel barrier is another clinician's patients): labelled so.
        "label": "Travel (illustrative)",
        "text": (
            "Illustrative detail, not from the source case: he lives about 90 minutes' drive from the nearest "
            "CAR T centre and has a daughter who can drive him."
        ),
    },
]
PROFILE_FIELDS = ["specialty", "setting", "experience"]

# What an organiser may do in the admin: author cases, events and polls; read the audit log and turnout.
ORGANISER_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "cases": {
        model: ("add", "change", "delete", "view")
        for model in ("case", "stagingitem", "historyitem", "therapyline", "casefact", "teachingpoint", "reference")
    },
    "polls": {
        **{
            model: ("add", "change", "delete", "view")
            for model in ("event", "agendaitem", "poll", "option", "profilequestion")
        },
        **{model: ("view",) for model in ("moderatoraction", "participant", "vote")},
    },
}


# ------------------------------------------------------------------ builder


class PasswordSource(StrEnum):
    ENV = "env"  # taken from CASEBOARD_DEMO_PASSWORD
    GENERATED = "generated"  # new user, random password: shown once
    UNCHANGED = "unchanged"  # existing user keeps its password


@dataclass
class DemoResult:
    event: Event
    case: Case
    username: str
    password: str | None  # set only when newly generated: shown once, never stored in clear
    password_source: PasswordSource
    event_created: bool
    changes: Counter = field(default_factory=Counter)


def _sync(model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any], changes: Counter):
    """Create the row, or update only the fields that differ, so a second run writes nothing."""
    obj = model.objects.filter(**lookup).order_by("pk").first()
    if obj is None:
        changes["created"] += 1
        return model.objects.create(**lookup, **values)
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=changed)
        changes["updated"] += 1
    return obj


def _prune(queryset: models.QuerySet, changes: Counter) -> None:
    deleted, _ = queryset.delete()
    changes["deleted"] += deleted


def _sync_case(changes: Counter) -> Case:
    case = _sync(Case, {"title": CASE["title"]}, {k: v for k, v in CASE.items() if k != "title"}, changes)
    for position, (system, value) in enumerate(STAGING, start=1):
        _sync(StagingItem, {"case": case, "position": position}, {"system": system, "value": value}, changes)
    _prune(StagingItem.objects.filter(case=case, position__gt=len(STAGING)), changes)
    for position, text in enumerate(HISTORY, start=1):
        _sync(HistoryItem, {"case": case, "position": position}, {"text": text}, changes)
    _prune(HistoryItem.objects.filter(case=case, position__gt=len(HISTORY)), changes)
    for line in THERAPY_LINES:
        values = {k: v for k, v in line.items() if k != "line_number"}
        _sync(TherapyLine, {"case": case, "line_number": line["line_number"]}, values, changes)
    _prune(TherapyLine.objects.filter(case=case, line_number__gt=len(THERAPY_LINES)), changes)
    for position, point in enumerate(TEACHING_POINTS, start=1):
        values = {"title": point["title"], "text": point["text"]}
        tp = _sync(TeachingPoint, {"case": case, "position": position}, values, changes)
        for ref_position, ref in enumerate(point["references"], start=1):
            values = {
                "citation": ref["citation"],
                **{field: ref.get(field, "") for field in ("nct", "pmid", "doi", "url")},
            }
            _sync(Reference, {"teaching_point": tp, "position": ref_position}, values, changes)
        _prune(Reference.objects.filter(teaching_point=tp, position__gt=len(point["references"])), changes)
    _prune(TeachingPoint.objects.filter(case=case, position__gt=len(TEACHING_POINTS)), changes)
    for position, fact in enumerate(HIDDEN_FACTS, start=1):
        _sync(CaseFact, {"case": case, "position": position}, {**fact, "hidden_until_revealed": True}, changes)
    _prune(CaseFact.objects.filter(case=case, position__gt=len(HIDDEN_FACTS)), changes)
    return case


def _sync_poll(event: Event, case: Case, position: int, spec: dict[str, Any], changes: Counter) -> None:
    """Create a missing poll; refresh an existing one only while it is an untouched draft."""
    poll = Poll.objects.filter(event=event, position=position).order_by("pk").first()
    if poll is not None and (poll.state != PollState.DRAFT or poll.votes.exists()):
        return  # opened or voted on: live state, left exactly as it is
    values = {
        "case": case,
        "kind": spec.get("kind", PollKind.SINGLE),
        "question": spec["question"],
        "preferred_rationale": spec.get("preferred_rationale", ""),
        **spec.get("numeric", {}),
    }
    poll = _sync(Poll, {"event": event, "position": position}, values, changes)
    for opt_position, label in enumerate(spec["options"], start=1):
        preferred = label in spec.get("preferred", ())
        _sync(Option, {"poll": poll, "position": opt_position}, {"label": label, "is_preferred": preferred}, changes)
    _prune(Option.objects.filter(poll=poll, position__gt=len(spec["options"])), changes)


def _sync_event(case: Case, changes: Counter) -> tuple[Event, bool]:
    event = Event.objects.filter(code=DEMO_CODE).first()
    created = event is None
    if created:
        event = Event.objects.create(code=DEMO_CODE, title=DEMO_EVENT_TITLE, status=EventStatus.DRAFT)
        changes["created"] += 1
    # The built-in questions, as the template gives them (an organiser may have edited the labels).
    for position, question in enumerate(built_in(PROFILE_FIELDS), start=1):
        if not ProfileQuestion.objects.filter(event=event, key=question["key"]).exists():
            ProfileQuestion.objects.create(event=event, position=position, **question)
            changes["created"] += 1
    if not AgendaItem.objects.filter(event=event, case=case).exists():
        AgendaItem.objects.create(event=event, case=case, position=1)
        changes["created"] += 1
    for position, spec in enumerate(POLLS, start=1):
        _sync_poll(event, case, position, spec, changes)
    return event, created


def _organiser_group(changes: Counter) -> Group:
    group, created = Group.objects.get_or_create(name=ORGANISER_GROUP)
    changes["created"] += int(created)
    wanted = set()
    for app_label, per_model in ORGANISER_PERMISSIONS.items():
        codenames = [f"{action}_{model}" for model, actions in per_model.items() for action in actions]
        wanted |= set(
            Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames).values_list(
                "pk", flat=True
            )
        )
    missing = wanted - set(group.permissions.values_list("pk", flat=True))
    if missing:
        group.permissions.add(*missing)
        changes["updated"] += 1
    return group


def _sync_moderator(password: str | None, changes: Counter) -> tuple[Any, str | None, PasswordSource]:
    user_model = get_user_model()
    user = user_model.objects.filter(username=DEMO_USERNAME).first()
    shown: str | None = None
    if user is None:
        source = PasswordSource.ENV if password else PasswordSource.GENERATED
        shown = None if password else secrets.token_urlsafe(12)
        user = user_model.objects.create_user(username=DEMO_USERNAME, password=password or shown, is_staff=True)
        changes["created"] += 1
    elif password:
        source = PasswordSource.ENV
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
            changes["updated"] += 1
    else:
        source = PasswordSource.UNCHANGED
    flags = {"is_staff": True, "is_superuser": False, "is_active": True}
    _sync(user_model, {"pk": user.pk}, flags, changes)
    group = _organiser_group(changes)
    if not user.groups.filter(pk=group.pk).exists():
        user.groups.add(group)
        changes["updated"] += 1
    return user, shown, source


def _acknowledge_sources(event: Event, user, changes: Counter) -> None:
    """The identifier guard flags the demo's dated sources (the FDA's 26 June 2025): they are about
    no patient, so the demo's author acknowledges them, as an organiser would on the case's page.
    Anything else it flags stays unacknowledged, and the demo event would not go live."""
    expected = {"Teaching point 4: text", "Teaching point 4: title"}
    findings = selectors.event_unacknowledged_identifiers(event.id)
    sources = [(where, kind, print_) for case, where, kind, print_ in findings if where in expected]
    if sources:
        case_services.identifiers_acknowledged(case=event.cases.get(), user=user, findings=sources)
        changes["updated"] += 1


@transaction.atomic
def load_demo(*, password: str | None = None, reset: bool = False) -> DemoResult:
    """Create or refresh the demo case, event CASE2 and moderator; with reset, rebuild the event first."""
    changes: Counter = Counter()
    if reset:
        _prune(Event.objects.filter(code=DEMO_CODE), changes)
    before = sum(changes.values())
    case = _sync_case(changes)
    case_changed = sum(changes.values()) != before
    event, event_created = _sync_event(case, changes)
    user, shown, source = _sync_moderator(password, changes)
    if not event.moderators.filter(pk=user.pk).exists():
        event.moderators.add(user)
        changes["updated"] += 1
    # Reading the texts loads the identifier guard (Presidio and spaCy: seconds). A reload that
    # changed nothing of the case finds its acknowledgements still matching: no need to read again.
    if case_changed or not case.identifier_acknowledgements.exists():
        _acknowledge_sources(event, user, changes)
    return DemoResult(
        event=event,
        case=case,
        username=user.get_username(),
        password=shown,
        password_source=source,
        event_created=event_created,
        changes=changes,
    )
