"""HTTP interfaces of what organisers take away after (or during) an event: the report page and its
PDF, the complete CSV and XLSX exports, and the recap. Moderators of the event only: anyone else
is sent to log in (anonymous) or refused with 403, whether the event exists or not."""

from __future__ import annotations

import base64
import functools
import hashlib

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from caseboard.middleware import CSP
from polls import selectors, services
from polls.reports import build, files, moore, recap

PDF_TEMPLATE = "polls/report/report.html"


@functools.cache
def _report_csp() -> str:
    """The site's policy, allowing the one inline stylesheet the report pages carry (the PDF
    needs it inline: WeasyPrint fetches nothing), by its hash rather than 'unsafe-inline'."""
    css = render_to_string("polls/report/report.css")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return CSP.replace("style-src 'self'", f"style-src 'self' 'sha256-{digest}'")


def _report_page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    response = render(request, template, context)
    response.headers["Content-Security-Policy"] = _report_csp()
    return response


class _LogIn(Exception):
    pass


def _moderated_event(request: HttpRequest, code: str):
    """The event, for one of its moderators; _LogIn for anonymous visitors; 403 for anyone else."""
    if not request.user.is_authenticated:
        raise _LogIn
    try:
        return selectors.event_for_moderator(user=request.user, code=code)
    except selectors.EventNotFound:
        raise PermissionDenied from None


def moderators_only(view):
    def wrapped(request: HttpRequest, code: str, *args, **kwargs) -> HttpResponse:
        try:
            event = _moderated_event(request, code)
        except _LogIn:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return view(request, event, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _attachment(body, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _with_profile(request: HttpRequest) -> bool:
    return request.GET.get("profile") == "1"


@never_cache
@require_GET
@moderators_only
def report_page(request: HttpRequest, event) -> HttpResponse:
    report = build.event_report(event=event)
    services.report_recorded(event=event, user=request.user, what="report")
    return _report_page(request, PDF_TEMPLATE, {"report": report, "pdf": False})


@never_cache
@require_GET
@moderators_only
def report_pdf(request: HttpRequest, event) -> HttpResponse:
    report = build.event_report(event=event)
    html = render_to_string(PDF_TEMPLATE, {"report": report, "pdf": True}, request=request)
    pdf = files.html_to_pdf(html)
    services.report_recorded(event=event, user=request.user, what="pdf")
    return _attachment(pdf, "application/pdf", f"caseboard-{event.code}-report.pdf")


@never_cache
@require_GET
@moderators_only
def export_csv(request: HttpRequest, event) -> HttpResponse:
    """The complete CSV; `?profile=1` adds profile answers to the ballot rows (suppressed under k)."""
    text = files.event_csv(build.event_report(event=event), with_profile=_with_profile(request))
    services.export_recorded(event=event, user=request.user)  # audited like every moderator action
    return _attachment(text, "text/csv; charset=utf-8", f"caseboard-{event.code}.csv")


@never_cache
@require_GET
@moderators_only
def export_xlsx(request: HttpRequest, event) -> HttpResponse:
    data = files.event_xlsx(build.event_report(event=event), with_profile=_with_profile(request))
    services.report_recorded(event=event, user=request.user, what="xlsx")
    return _attachment(
        data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"caseboard-{event.code}.xlsx"
    )


OUTCOMES_TEMPLATE = "polls/report/outcomes.html"


@never_cache
@require_GET
@moderators_only
def outcomes_page(request: HttpRequest, event) -> HttpResponse:
    """Moore's levels for the accreditor's activity record and the sponsor's outcomes report."""
    outcomes = moore.outcomes_report(event=event)
    services.report_recorded(event=event, user=request.user, what="outcomes")
    return _report_page(request, OUTCOMES_TEMPLATE, {"o": outcomes, "pdf": False})


@never_cache
@require_GET
@moderators_only
def outcomes_pdf(request: HttpRequest, event) -> HttpResponse:
    outcomes = moore.outcomes_report(event=event)
    html = render_to_string(OUTCOMES_TEMPLATE, {"o": outcomes, "pdf": True}, request=request)
    services.report_recorded(event=event, user=request.user, what="outcomes.pdf")
    return _attachment(files.html_to_pdf(html), "application/pdf", f"caseboard-{event.code}-outcomes.pdf")


@never_cache
@require_GET
@moderators_only
def claims_csv(request: HttpRequest, event) -> HttpResponse:
    """The credit claims for the accreditor's activity record: the claims alone, nothing of the room."""
    text = files.claims_csv(event)
    services.report_recorded(event=event, user=request.user, what="claims.csv")
    return _attachment(text, "text/csv; charset=utf-8", f"caseboard-{event.code}-claims.csv")


def _recap_text(event) -> tuple[str, object]:
    saved = recap.stored(event=event)
    if saved is not None and saved.body:
        return saved.body, saved
    return recap.draft(build.event_report(event=event)), saved


@never_cache
@require_http_methods(["GET", "POST"])
@moderators_only
def recap_edit(request: HttpRequest, event) -> HttpResponse:
    """The recap's editor: the saved text (or a fresh draft from the data), a server-rendered
    preview, save, publish or withdraw, and the public link once published."""
    body, saved = _recap_text(event)
    notice = ""
    if request.method == "POST":
        action = request.POST.get("action", "preview")
        body = request.POST.get("body", "")[:100_000]
        if action == "redraft":
            body = recap.draft(build.event_report(event=event))
            notice = gettext("A fresh draft from the data replaced the text (not saved yet).")
        elif action in {"save", "publish", "withdraw", "share", "unshare"}:
            saved = services.recap_save(
                event=event,
                user=request.user,
                body=body,
                publish={"publish": True, "withdraw": False}.get(action),
                public_link={"share": True, "unshare": False}.get(action),
            )
            return redirect(reverse("event-recap", kwargs={"code": event.code}) + "?saved=" + action)
    if request.GET.get("saved"):
        notice = {
            "publish": gettext("Saved and published."),
            "withdraw": gettext("Withdrawn: the recap is no longer published and its public link is off."),
            "share": gettext("The public link is on."),
            "unshare": gettext("The public link is off."),
        }.get(request.GET["saved"], gettext("Saved."))
    public_url = None
    if saved is not None and saved.public_link and saved.published_at:
        public_url = request.build_absolute_uri(reverse("recap-public", kwargs={"token": saved.public_token}))
    return render(
        request,
        "polls/report/recap_edit.html",
        {
            "event": event,
            "body": body,
            "preview": recap.render(body),
            "recap": saved,
            "notice": notice,
            "public_url": public_url,
        },
    )


@never_cache
@require_GET
@moderators_only
def recap_markdown(request: HttpRequest, event) -> HttpResponse:
    body, _ = _recap_text(event)
    services.report_recorded(event=event, user=request.user, what="recap.md")
    return _attachment(body, "text/markdown; charset=utf-8", f"caseboard-{event.code}-recap.md")


@never_cache
@require_GET
@moderators_only
def recap_pdf(request: HttpRequest, event) -> HttpResponse:
    body, _ = _recap_text(event)
    html = render_to_string("polls/report/recap.html", {"event": event, "html": recap.render(body), "pdf": True})
    services.report_recorded(event=event, user=request.user, what="recap.pdf")
    return _attachment(files.html_to_pdf(html), "application/pdf", f"caseboard-{event.code}-recap.pdf")


@never_cache
@require_GET
def recap_public(request: HttpRequest, token: str) -> HttpResponse:
    """A published recap its moderators chose to share: the text only (aggregated figures)."""
    shared = recap.public(token=token)
    if shared is None:
        raise Http404(gettext("No such recap."))
    response = render(
        request, "polls/report/recap.html", {"event": shared.event, "html": recap.render(shared.body), "pdf": False}
    )
    response["X-Robots-Tag"] = "noindex"
    return response
