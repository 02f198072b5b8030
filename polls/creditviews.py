"""Claiming continuing-education credit after an event, and the certificate (issue 15).

No login and nothing of the participant's session: a claim is a form a clinician fills in, kept
apart from the ballots (polls.models.CreditClaim). The certificate is reached by its own random
token, which only its claimant was shown.

A second claim is recognised twice over, and neither way can join a claim to a ballot:
- the same email address claims once per event (a unique constraint on the claim itself);
- the browser that claimed keeps a signed cookie saying so (`claimed_cookie`), which lives only in
  that browser. It is not the session (whose row holds the participant's id) and nothing of it is
  stored on the server: a "claimed" flag on the participant, or a token both on the claim and in
  the session, would tell which participants claimed, and with one claimant, whose ballots they were.
A participant who clears cookies and uses another address can claim twice; the certificate is a
self-attestation of hours either way, which is what accreditors accept."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from caseboard import throttle
from caseboard.clientip import request_client_ip
from polls import selectors, services
from polls.errors import DomainError
from polls.models import CreditClaim, EventStatus, Profession
from polls.reports import files

CLAIMS_PER_ADDRESS_PER_HOUR = 30  # a hotel's shared address claims for a whole room, not for a bot


CLAIMED_COOKIE_SALT = "caseboard.credit-claimed"
CLAIMED_COOKIE_AGE_S = 365 * 24 * 3600
ALREADY_CLAIMED_HERE = _("Credit for this event has already been claimed from this browser. Each person claims once.")


class CreditClaimForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Your name, as it should appear on the certificate"))
    email = forms.EmailField(label=_("Email"))
    profession = forms.ChoiceField(choices=Profession.choices, label=_("Profession"))
    # No max_digits: "99999" is told the event's bounds (clean_hours), not a digit count.
    hours = forms.DecimalField(decimal_places=2, min_value=Decimal("0.25"), label=_("Hours you attended"))

    def __init__(self, *args, credit_hours: Decimal, **kwargs):
        super().__init__(*args, **kwargs)
        self.credit_hours = credit_hours

    def clean_hours(self) -> Decimal:
        hours = self.cleaned_data["hours"]
        if not Decimal("0") < hours <= self.credit_hours:
            raise forms.ValidationError(
                _("Claim between %(least)s and %(most)s hours.")
                % {"least": formats.number_format(Decimal("0.25")), "most": formats.number_format(self.credit_hours)}
            )
        return hours


def claimed_cookie(event) -> str:
    """The name of the cookie by which a browser remembers it claimed this event's credit."""
    return f"caseboard_claimed_{event.pk}"


def _claimed_here(request: HttpRequest, event) -> bool:
    value = request.get_signed_cookie(claimed_cookie(event), default=None, salt=CLAIMED_COOKIE_SALT)
    return value == str(event.pk)


def _event(code: str):
    try:
        return selectors.event_by_code(code=code)
    except selectors.EventNotFound:
        raise Http404(_("No event with that code.")) from None


@never_cache
@require_http_methods(["GET", "POST"])
def credit_claim(request: HttpRequest, code: str) -> HttpResponse:
    event = _event(code)
    if event.credit_hours is None:
        raise Http404(_("This event offers no credit."))
    if event.code != code and request.method == "GET":
        # The code as typed (any case): the canonical address, where the browser's mark is sent.
        return redirect(reverse(request.resolver_match.url_name, args=[event.code]))
    form = CreditClaimForm(request.POST or None, initial={"hours": event.credit_hours}, credit_hours=event.credit_hours)
    claimed_here = _claimed_here(request, event)
    status = 200
    if request.method == "POST":
        key = f"credit-claims:{event.pk}:{request_client_ip(request)}"
        if claimed_here:
            form.add_error(None, ALREADY_CLAIMED_HERE)
            status = 409
        elif throttle.hit(key, 3600) > CLAIMS_PER_ADDRESS_PER_HOUR:
            form.add_error(None, _("Too many claims from this network in the last hour; try again later."))
            status = 429
        elif form.is_valid():
            try:
                claim = services.credit_claim(event_id=event.pk, **form.cleaned_data)
            except DomainError as refused:
                form.add_error(None, refused.message)
                status = 409 if refused.code == "already_claimed" else 400
            else:
                response = redirect(reverse("credit-certificate", args=[event.code, claim.certificate_token]))
                _remember_claim(response, event)
                return response
        status = status if status != 200 else 400
    context = {
        "event": event,
        "form": form,
        "open": event.status == EventStatus.ENDED,
        "claimed_here": claimed_here,
    }
    return render(request, "polls/credit/claim.html", context, status=status)


def _remember_claim(response: HttpResponse, event) -> None:
    """The browser's own mark (see the module's docstring): signed, scoped to the event's pages."""
    response.set_signed_cookie(
        claimed_cookie(event),
        str(event.pk),
        salt=CLAIMED_COOKIE_SALT,
        max_age=CLAIMED_COOKIE_AGE_S,
        path=f"/e/{event.code}/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _claim(code: str, token: str) -> CreditClaim:
    claim = CreditClaim.objects.select_related("event").filter(certificate_token=token, event__code=code).first()
    if claim is None:
        raise Http404(_("No such certificate."))
    return claim


@never_cache
@require_GET
def credit_certificate(request: HttpRequest, code: str, token: str) -> HttpResponse:
    claim = _claim(code, token)
    return render(request, "polls/credit/certificate.html", {"claim": claim, "event": claim.event})


@never_cache
@require_GET
def credit_certificate_pdf(request: HttpRequest, code: str, token: str) -> HttpResponse:
    claim = _claim(code, token)
    html = render_to_string("polls/credit/certificate_pdf.html", {"claim": claim, "event": claim.event})
    response = HttpResponse(files.html_to_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{claim.event.code}.pdf"'
    return response
