"""Claiming continuing-education credit after an event, and the certificate (issue 15).

No login and nothing of the participant's session: a claim is a form a clinician fills in, kept
apart from the ballots (polls.models.CreditClaim). The certificate is reached by its own random
token, which only its claimant was shown."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from caseboard import throttle
from caseboard.clientip import request_client_ip
from polls import selectors, services
from polls.errors import DomainError
from polls.models import CreditClaim, EventStatus, Profession
from polls.reports import files

CLAIMS_PER_ADDRESS_PER_HOUR = 30  # a hotel's shared address claims for a whole room, not for a bot


class CreditClaimForm(forms.Form):
    name = forms.CharField(max_length=200, label="Your name, as it should appear on the certificate")
    email = forms.EmailField(label="Email")
    profession = forms.ChoiceField(choices=Profession.choices)
    hours = forms.DecimalField(max_digits=4, decimal_places=2, min_value=0.25, label="Hours you attended")


def _event(code: str):
    try:
        return selectors.event_by_code(code=code)
    except selectors.EventNotFound:
        raise Http404("No event with that code.") from None


@never_cache
@require_http_methods(["GET", "POST"])
def credit_claim(request: HttpRequest, code: str) -> HttpResponse:
    event = _event(code)
    if event.credit_hours is None:
        raise Http404("This event offers no credit.")
    form = CreditClaimForm(request.POST or None, initial={"hours": event.credit_hours})
    status = 200
    if request.method == "POST":
        key = f"credit-claims:{event.pk}:{request_client_ip(request)}"
        if throttle.hit(key, 3600) > CLAIMS_PER_ADDRESS_PER_HOUR:
            form.add_error(None, "Too many claims from this network in the last hour; try again later.")
            status = 429
        elif form.is_valid():
            try:
                claim = services.credit_claim(event_id=event.pk, **form.cleaned_data)
            except DomainError as refused:
                form.add_error(None, refused.message)
            else:
                return redirect(reverse("credit-certificate", args=[event.code, claim.certificate_token]))
        status = status if status != 200 else 400
    context = {"event": event, "form": form, "open": event.status == EventStatus.ENDED}
    return render(request, "polls/credit/claim.html", context, status=status)


def _claim(code: str, token: str) -> CreditClaim:
    claim = CreditClaim.objects.select_related("event").filter(certificate_token=token, event__code=code).first()
    if claim is None:
        raise Http404("No such certificate.")
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
