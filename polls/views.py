"""HTTP interfaces: the three screens, the JSON endpoints and the plain-HTTP fallback for phones."""

from __future__ import annotations

import logging

import segno
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import Error as DatabaseError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from caseboard import i18n, throttle
from caseboard.clientip import request_client_ip
from caseboard.middleware import CSP
from cases.forms import ACKNOWLEDGE, ACKNOWLEDGE_LABEL, acknowledge_field
from polls import exports, invitations, joins, panel_links, protocol, selectors, services
from polls.errors import DomainError
from polls.protocol import Role, outbound

logger = logging.getLogger(__name__)

# HTTP status per error code for the fallback endpoint; anything else is 400.
ERROR_STATUS = {
    "forbidden": 403,
    "not_joined": 403,
    "unknown_event": 404,
    "unknown_poll": 404,
    "poll_closed": 409,
    "poll_not_open": 409,
    "idempotency_conflict": 409,
    "event_ended": 409,
    "rate_limited": 429,
    "unavailable": 503,
    "server_error": 500,
}


def _client_ip(request: HttpRequest) -> str:
    # Already the client's by the trusted-proxy rule (caseboard.clientip.TrustedProxyMiddleware);
    # resolved again here so a request that did not come through the ASGI stack follows it too.
    return request_client_ip(request)


def _joined(request: HttpRequest, event) -> bool:
    return selectors.participant_id_from_session(session=request.session, event_id=event.id) is not None


def _find_event(request: HttpRequest, code: str):
    """The event of a join code, or None, counting an unknown code against the client's guessing
    budget (polls/joins.py). Raises _TooManyJoins when the address is over that budget."""
    ip = _client_ip(request)
    try:
        return selectors.event_by_code(code=code)
    except selectors.EventNotFound:
        blocked = joins.join_blocked(ip)
        joins.record_join_failure(ip)
        if blocked:
            raise _TooManyJoins from None
        return None


def _admit(request: HttpRequest, event) -> None:
    """A visitor who is not (yet) the event's participant: refused while the address is over its
    guessing budget, unless the event is in use at that address. Raises _TooManyJoins."""
    if not joins.admits_code(_client_ip(request), event.code):
        raise _TooManyJoins


class _TooManyJoins(Exception):
    pass


class _TooManyNewParticipants(Exception):
    pass


def _too_many(request: HttpRequest, message: str | None = None) -> HttpResponse:
    message = message or _("Too many wrong codes. Wait a minute and try again.")
    return render(request, "polls/landing.html", {"error": message}, status=429)


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("code", "")
    if not code:
        return render(request, "polls/landing.html", {})
    try:
        event = _find_event(request, code)
        if event is not None and not _joined(request, event):
            _admit(request, event)
    except _TooManyJoins:
        return _too_many(request)
    if event is None:
        return render(
            request,
            "polls/landing.html",
            {"error": _("No event uses that code. Check the code on the screen."), "code": code[:16]},
            status=404,
        )
    return redirect("participant", code=event.code)


def _ensure_participant(request: HttpRequest, event) -> int:
    """Bind this browser session to a participant of the event, creating one on first visit
    (within the address's budget of new participants: _TooManyNewParticipants)."""
    joined = request.session.get(selectors.PARTICIPANT_SESSION_KEY, {})
    pid = joined.get(str(event.id))
    if isinstance(pid, int):
        return pid
    ip = _client_ip(request)
    if not joins.new_participant_allowed(ip):
        raise _TooManyNewParticipants
    participant = services.participant_join(event=event)
    joins.record_code_in_use(ip, event.code)
    joined[str(event.id)] = participant.id
    request.session[selectors.PARTICIPANT_SESSION_KEY] = joined
    return participant.id


def _page_config(request: HttpRequest, event, role: str, **extra) -> dict:
    # `lang`: the page's language, in which the socket words its error messages (issue 18).
    lang = translation.get_language() or settings.LANGUAGE_CODE
    ws_path = {
        # The phone applies `questions_delta` frames (docs/protocol.md): small frames on bad Wi-Fi.
        Role.PARTICIPANT: f"/ws/e/{event.code}/?questions=delta&lang={lang}",
        Role.PRESENTER: f"/ws/e/{event.code}/present/?lang={lang}",
        Role.MODERATOR: f"/ws/e/{event.code}/moderate/?lang={lang}",
        Role.PANELIST: f"/ws/e/{event.code}/panel/?lang={lang}",
    }[role]
    return {"code": event.code, "role": role, "ws_path": ws_path, "event_title": event.title, **extra}


def _participant_url(request: HttpRequest, event) -> str:
    base = settings.CASEBOARD["PUBLIC_BASE_URL"] or request.build_absolute_uri("/").rstrip("/")
    return f"{base.rstrip('/')}{reverse('participant', kwargs={'code': event.code})}"


@never_cache
@require_GET
def participant(request: HttpRequest, code: str) -> HttpResponse:
    try:
        event = _find_event(request, code)
        if event is None:
            # The plain page even when DEBUG is on: a mistyped link is a participant's everyday.
            return render(request, "404.html", status=404)
        if not _joined(request, event):  # joined phones are never limited (reloads)
            _admit(request, event)
        if event.code != code:
            return redirect("participant", code=event.code)
        _ensure_participant(request, event)
    except _TooManyJoins:
        return _too_many(request)
    except _TooManyNewParticipants:
        return _too_many(request, _("Too many people joined from this network in the last minute. Try again shortly."))
    except DomainError as exc:
        i18n.use_language(request, i18n.participant_language(request, event.language))
        return render(request, "polls/ended.html", {"event": event, "message": exc.message}, status=410)
    language = i18n.participant_language(request, event.language)
    i18n.use_language(request, language)
    config = _page_config(
        request,
        event,
        Role.PARTICIPANT,
        state_url=reverse("participant-state", kwargs={"code": event.code}),
        vote_url=reverse("participant-vote", kwargs={"code": event.code}),
    )
    disclosures = selectors.event_disclosures(event_id=event.id)
    return render(
        request,
        "polls/participant.html",
        {
            "event": event,
            "config": config,
            "disclosures": disclosures,
            "language_switch": i18n.switcher_choices(request, language),
        },
    )


def _participant_context(request: HttpRequest, code: str):
    """The event and this session's participant id (or None). Unknown codes count as wrong joins
    (a probe of `state.json` or `vote` would otherwise tell codes apart unthrottled); over the
    guessing budget a session that has not joined gets _TooManyJoins, whether the code exists or not."""
    event = _find_event(request, code)
    if event is None:
        raise selectors.EventNotFound
    pid = selectors.participant_id_from_session(session=request.session, event_id=event.id)
    if pid is None:
        _admit(request, event)
    return event, pid


def _fallback_allowed(request: HttpRequest) -> bool:
    """The HTTP fallback's own rate limit, per session: the websocket's budget
    (CASEBOARD_RATE_LIMIT_FRAMES per CASEBOARD_RATE_LIMIT_WINDOW_S) for polls and ballots together."""
    limits = settings.CASEBOARD
    key = f"http-fallback:{request.session.session_key}"
    return throttle.hit(key, limits["RATE_LIMIT_WINDOW_S"]) <= limits["RATE_LIMIT_FRAMES"]


def _guarded(request: HttpRequest, code: str):
    """(event, participant id, None) for a fallback request, or (None, None, the error response)."""
    try:
        event, pid = _participant_context(request, code)
    except selectors.EventNotFound:
        return None, None, _error_response("unknown_event")
    except _TooManyJoins:
        return None, None, _error_response("rate_limited", message="Too many wrong codes. Wait a minute.")
    if pid is None:
        return None, None, _error_response("not_joined")
    if not _fallback_allowed(request):
        return None, None, _error_response("rate_limited")
    return event, pid, None


def _error_response(code: str, ref: str | None = None, message: str | None = None) -> JsonResponse:
    frame = protocol.error_frame(ref=ref, code=code, message=message)
    return JsonResponse(frame, status=ERROR_STATUS.get(code, 400))


@never_cache
@require_GET
def participant_state(request: HttpRequest, code: str) -> HttpResponse:
    """Fallback for networks that block websockets: the same `state` frame, polled."""
    event, pid, refusal = _guarded(request, code)
    if refusal is not None:
        return refusal
    message = outbound.build_state_message(event.id)
    poll_id = message["poll"]
    ballot = selectors.participant_ballots(participant_id=pid).get(poll_id) if poll_id else None
    questions = outbound.questions_text(message["questions"], participant_id=pid)
    profile = protocol.dumps(protocol.my_profile(selectors.participant_profile(participant_id=pid)))
    text = protocol.personal_state(
        message["public"], protocol.dumps(protocol.my_vote(poll_id, ballot)), questions, profile
    )
    return HttpResponse(text, content_type="application/json")


@never_cache
@require_POST
def participant_vote(request: HttpRequest, code: str) -> HttpResponse:
    """Fallback for phones without websockets: the body is a client frame the protocol accepts over
    HTTP (`vote`, `profile`; see FrameType.http_fallback), the reply the same `ack` or `error`."""
    event, pid, refusal = _guarded(request, code)
    if refusal is not None:
        return refusal
    ref = None
    try:
        frame = protocol.decode(
            request.body.decode("utf-8", "replace"), max_bytes=settings.CASEBOARD["MAX_FRAME_BYTES"]
        )
        ref = protocol.frame_ref(frame)
        command = protocol.parse(frame, role=Role.PARTICIPANT, http=True)
        return JsonResponse(protocol.execute(command, event_id=event.id, participant_id=pid))
    except DomainError as exc:
        return _error_response(exc.code, ref, exc.message)
    except DatabaseError:
        logger.warning("database unavailable for a fallback vote", exc_info=True)
        return _error_response("unavailable", ref)
    except Exception:
        logger.exception("unexpected error handling a fallback frame")
        return _error_response("server_error", ref)


def _qr_svg(url: str) -> str:
    qr = segno.make(url, error="m")
    return qr.svg_inline(scale=8, dark="#000", light="#fff", border=2, omitsize=True)


# The console shows the projector live in a frame: the presenter page may be framed by this site only.
PRESENTER_CSP = CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'")


@never_cache
@xframe_options_sameorigin
@require_GET
def presenter(request: HttpRequest, code: str) -> HttpResponse:
    # Unknown codes count as wrong joins: "404" against "please log in" would tell codes apart.
    try:
        event = _find_event(request, code)
    except _TooManyJoins:
        return _too_many(request)
    if event is None:
        raise Http404("No event with that code.")
    key = request.GET.get("key", "")
    if key and constant_time_compare(key, event.presenter_token):
        joins.record_code_in_use(_client_ip(request), event.code)
        # The key leaves the URL at once (the redirect): the session keeps a fingerprint of it, so
        # rotating the key (services.presenter_key_rotate) ends this browser's access.
        granted = request.session.get(selectors.PRESENTER_SESSION_KEY, {})
        granted = granted if isinstance(granted, dict) else {}
        granted[str(event.id)] = selectors.presenter_key_fingerprint(event.presenter_token)
        request.session[selectors.PRESENTER_SESSION_KEY] = granted
        return redirect("presenter", code=event.code)
    if not selectors.may_present(user=request.user, session=request.session, event=event):
        if not joins.admits_code(_client_ip(request), event.code):
            return _too_many(request)
        if not request.user.is_authenticated:
            return redirect(f"{settings.LOGIN_URL}?next={request.path}")
        raise Http404("No event with that code.")
    joins.record_code_in_use(_client_ip(request), event.code)
    participant_url = _participant_url(request, event)
    i18n.use_language(request, i18n.supported(event.language) or settings.LANGUAGE_CODE)  # the room's screen
    config = _page_config(request, event, Role.PRESENTER)
    response = render(
        request,
        "polls/presenter.html",
        {
            "event": event,
            "config": config,
            "participant_url": participant_url,
            "qr_svg": _qr_svg(participant_url),
            "disclosures": selectors.event_disclosures(event_id=event.id),
        },
    )
    response.headers["Content-Security-Policy"] = PRESENTER_CSP
    return response


@never_cache
@login_required
@require_GET
def moderator(request: HttpRequest, code: str) -> HttpResponse:
    try:
        event = selectors.event_for_moderator(user=request.user, code=code)
    except selectors.EventNotFound:
        raise Http404("No event with that code.") from None
    joins.record_code_in_use(_client_ip(request), event.code)
    presenter_link = request.build_absolute_uri(
        reverse("presenter", kwargs={"code": event.code}) + f"?key={event.presenter_token}"
    )
    # The workspace page of a case (case 0 standing for the id), for the console's links to flagged text.
    config = _page_config(request, event, Role.MODERATOR, author_case_url=reverse("author-case", args=[0]))
    return render(
        request,
        "polls/moderator.html",
        {
            "event": event,
            "config": config,
            "participant_url": _participant_url(request, event),
            "presenter_link": presenter_link,
            # The console is in its moderator's own language (LocaleMiddleware: the cookie, else
            # the browser's), whatever the event's.
            "language_switch": i18n.switcher_choices(request, translation.get_language()),
            # The quick poll's "I have checked the flagged text", worded as on the workspace.
            "acknowledge": {"name": ACKNOWLEDGE, "label": ACKNOWLEDGE_LABEL, "help": acknowledge_field().help_text},
            "panelist_links": _panelist_links(request, event),
            "panel_form_error": request.session.pop(PANEL_FORM_ERROR_KEY, None),
        },
    )


@never_cache
@require_GET
def panelist(request: HttpRequest, code: str) -> HttpResponse:
    """The panel's own voting view: the phone screen, bound to a panelist link opened in this
    browser (polls/panel_links.py) or to a logged-in panelist's account instead of the session."""
    try:
        event = selectors.event_by_code(code=code)
    except selectors.EventNotFound:
        raise Http404("No event with that code.") from None
    invited = selectors.invited_panelist_id(session=request.session, event_id=event.id) is not None
    if not invited:
        if selectors.panel_invitation_revoked(session=request.session, event_id=event.id):
            return render(request, "polls/panel_link_invalid.html", {"event": event, "revoked": True}, status=403)
        if not request.user.is_authenticated:
            return redirect(f"{settings.LOGIN_URL}?next={request.path}")
        try:
            services.panelist_participant(event=event, user=request.user)
        except DomainError:
            # Said as it is: the event exists (its code is on the projector), this account is not on its panel.
            return render(request, "polls/not_panelist.html", {"event": event}, status=403)
    joins.record_code_in_use(_client_ip(request), event.code)
    config = _page_config(request, event, Role.PANELIST)
    return render(request, "polls/participant.html", {"event": event, "config": config, "panel": True})


@never_cache
@require_GET
def panelist_invitation_accept(request: HttpRequest, code: str, token: str) -> HttpResponse:
    """A panelist link: this browser becomes the invitation's panelist (no account), then goes to
    the panel view, so the token leaves the address bar (and any Referer) at once."""
    try:
        # Unknown codes count against the address's guessing budget, as on the join page.
        event = _find_event(request, code)
    except _TooManyJoins:
        return _too_many(request)
    if event is None:
        return render(request, "404.html", status=404)
    invitation = panel_links.invitation_from_token(token, event=event)
    if invitation is None:
        # Forged, mistyped, another event's or withdrawn: the same answer for each.
        return render(request, "polls/panel_link_invalid.html", {"event": event}, status=403)
    services.invited_panelist_participant(invitation=invitation)
    # A new session key for the raised rights: a session id planted before the link was opened
    # (session fixation) does not become a panelist's.
    request.session.cycle_key()
    granted = request.session.get(selectors.PANEL_INVITATION_SESSION_KEY, {})
    granted = granted if isinstance(granted, dict) else {}
    granted[str(event.id)] = invitation.pk
    request.session[selectors.PANEL_INVITATION_SESSION_KEY] = granted
    return redirect("panelist", code=event.code)


@never_cache
@login_required
@require_POST
def panelist_invitations(request: HttpRequest, code: str) -> HttpResponse:
    """The console's panelist links: create one (name) or withdraw one (revoke=<id>)."""
    try:
        event = selectors.event_for_moderator(user=request.user, code=code)
    except selectors.EventNotFound:
        raise Http404("No event with that code.") from None
    revoke = request.POST.get("revoke")
    try:
        if revoke is not None:
            if not revoke.isdigit():
                raise DomainError("unknown_invitation")
            services.panelist_invitation_revoke(event_id=event.id, invitation_id=int(revoke), user=request.user)
        else:
            services.panelist_invitation_create(
                event_id=event.id, display_name=request.POST.get("name", ""), user=request.user
            )
    except DomainError as exc:
        request.session[PANEL_FORM_ERROR_KEY] = str(exc.message)  # a lazy message is not JSON
    return redirect(reverse("moderator", kwargs={"code": event.code}) + "#panelists-heading")


PANEL_FORM_ERROR_KEY = "caseboard_panel_form_error"


def _panelist_links(request: HttpRequest, event) -> list[dict]:
    return [
        {
            "invitation": invitation,
            "url": request.build_absolute_uri(
                reverse(
                    "panelist-invitation",
                    kwargs={"code": event.code, "token": panel_links.invitation_token(invitation)},
                )
            ),
        }
        for invitation in selectors.panelist_invitations(event=event)
    ]


@never_cache
@require_GET
def poll_results(request: HttpRequest, code: str, poll_id: int) -> HttpResponse:
    try:
        event = selectors.event_for_moderator(user=request.user, code=code)
        poll = selectors.poll_for_event(event_id=event.id, poll_id=poll_id)
    except (selectors.EventNotFound, DomainError):
        return JsonResponse(protocol.error_frame(ref=None, code="unknown_poll"), status=404)
    results = selectors.poll_results(poll=poll)
    return JsonResponse(
        {"poll": poll.id, "state": poll.state, "total": results.total, "counts": {}, **results.moderator}
    )


@never_cache
@login_required
@require_GET
def moderator_home(request: HttpRequest) -> HttpResponse:
    """Where a moderator lands after logging in: the console of the event he moderates (a live
    one first, else the newest); with none, the authoring workspace if he may prepare cases or
    events (a new moderator starts there), else the join page (a panelist, say)."""
    events = selectors.events_moderated_by(user=request.user)
    event = events.filter(status="live").order_by("-started_at", "-created_at").first() or events.first()
    if event:
        return redirect("moderator", code=event.code)
    may_author = request.user.has_perm("polls.add_event") or request.user.has_perm("cases.add_case")
    return redirect("author") if may_author else redirect("landing")


@never_cache
@require_GET
def event_presence(request: HttpRequest, code: str) -> HttpResponse:
    """How many joined and answered, for the console and the projector ("12 joined · 9 voted")."""
    try:
        event = selectors.event_by_code(code=code)
    except selectors.EventNotFound:
        event = None
    if event is None or not selectors.may_present(user=request.user, session=request.session, event=event):
        return JsonResponse(protocol.error_frame(ref=None, code="unknown_event"), status=404)
    return JsonResponse(selectors.presence(event=event))


@never_cache
@require_GET
def questions_export(request: HttpRequest, code: str) -> HttpResponse:
    try:
        event = selectors.event_for_moderator(user=request.user, code=code)
    except selectors.EventNotFound:
        raise Http404("No event with that code.") from None
    text = exports.questions_csv(event)
    services.questions_export_recorded(event=event, user=request.user)  # audited like every export
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="caseboard-{event.code}-questions.csv"'
    return response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "channel_layer": _check_channel_layer()}
    ok = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ok else "degraded", **checks}, status=200 if ok else 503)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except DatabaseError:
        return "error"


async def _layer_roundtrip() -> None:
    layer = get_channel_layer()
    # The default prefix: channels_redis serves every local channel of a process from one reader.
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "healthz"})
    await layer.receive(channel)


def _check_channel_layer() -> str:
    import asyncio

    async def check() -> None:
        await asyncio.wait_for(_layer_roundtrip(), timeout=2)

    try:
        async_to_sync(check)()
        return "ok"
    except Exception:
        return "error"


@never_cache
@require_GET
def event_invitation(request: HttpRequest, code: str) -> HttpResponse:
    """The event's calendar invitation (.ics) for its moderators; 409 until it has a start time."""
    if not request.user.is_authenticated:
        return redirect(f"{settings.LOGIN_URL}?next={request.path}")
    try:
        event = selectors.event_for_moderator(user=request.user, code=code)
    except selectors.EventNotFound:
        raise Http404("No event with that code.") from None
    if event.starts_at is None:
        return HttpResponse("Set the event's start time first (admin: the event's Schedule).", status=409)
    content = invitations.event_invitation(
        event,
        console_url=request.build_absolute_uri(reverse("moderator", args=[event.code])),
        join_url=request.build_absolute_uri(reverse("participant", args=[event.code])),
    )
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="caseboard-{event.code}.ics"'
    return response


@require_GET
def case_image(request: HttpRequest, code: str, image_id: int) -> HttpResponse:
    """A case image for the phones and the projector (cases.images stripped its metadata)."""
    try:
        event = selectors.event_by_code(code=code)
        moderator = selectors.user_moderates(user=request.user, event=event)
        image = selectors.case_image_for_screen(event=event, image_id=image_id, moderator=moderator)
    except selectors.EventNotFound:
        raise Http404("No such image.") from None
    response = HttpResponse(bytes(image.content), content_type=image.content_type)
    # Private: an image belongs to the event's room, not to shared caches.
    response["Cache-Control"] = "private, max-age=3600"
    return response
