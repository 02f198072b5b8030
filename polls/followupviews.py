"""The follow-up survey's pages (issue 15): leave an email, answer by the mailed link, unsubscribe.

None of them reads the participant's session: an address is never joined to a participant."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from caseboard import throttle
from caseboard.clientip import request_client_ip
from polls import selectors, services
from polls.errors import DomainError
from polls.models import PollKind

SIGNUPS_PER_ADDRESS_PER_HOUR = 60


class FollowUpSignupForm(forms.Form):
    email = forms.EmailField(label=_("Email for the follow-up"))


def _event(code: str):
    try:
        return selectors.event_by_code(code=code)
    except selectors.EventNotFound:
        raise Http404(_("No event with that code.")) from None


@never_cache
@require_http_methods(["GET", "POST"])
def followup_signup(request: HttpRequest, code: str) -> HttpResponse:
    event = _event(code)
    if event.followup_days is None:
        raise Http404(_("This event has no follow-up."))
    form = FollowUpSignupForm(request.POST or None)
    status, done = 200, False
    if request.method == "POST":
        key = f"followup-signups:{event.pk}:{request_client_ip(request)}"
        if throttle.hit(key, 3600) > SIGNUPS_PER_ADDRESS_PER_HOUR:
            form.add_error(None, _("Too many sign-ups from this network in the last hour; try again later."))
            status = 429
        elif form.is_valid():
            try:
                services.followup_signup(
                    event_id=event.pk, email=form.cleaned_data["email"], language=translation.get_language() or ""
                )
            except DomainError as refused:
                form.add_error(None, refused.message)
                status = 400
            else:
                done = True
        else:
            status = 400
    context = {"event": event, "form": form, "done": done}
    return render(request, "polls/followup/signup.html", context, status=status)


def _answers(request: HttpRequest, polls) -> dict[int, list[int] | str]:
    """The posted answers by poll; a value that is not a number where an option is expected is
    kept as -1, which the service refuses as an invalid option."""
    answers: dict[int, list[int] | str] = {}
    for poll in polls:
        name = f"poll-{poll.id}"
        if poll.kind == PollKind.TEXT:
            answers[poll.id] = request.POST.get(name, "")
        else:
            answers[poll.id] = [int(v) if v.isdigit() else -1 for v in request.POST.getlist(name)]
    return answers


@never_cache
@require_http_methods(["GET", "POST"])
def followup_answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        survey = services.followup_open(token=token)
    except DomainError as refused:
        return render(request, "polls/followup/closed.html", {"message": refused.message}, status=410)
    context = {"survey": survey, "event": survey.event, "error": ""}
    if request.method == "POST":
        try:
            services.followup_answer(token=token, answers=_answers(request, survey.polls))
        except DomainError as refused:
            context["error"] = refused.message
            return render(request, "polls/followup/answer.html", context, status=400)
        return render(request, "polls/followup/thanks.html", {"event": survey.event})
    return render(request, "polls/followup/answer.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def followup_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners follow links); POST erases the address."""
    if request.method == "GET":
        return render(request, "polls/followup/unsubscribe.html", {"done": False})
    try:
        event = services.followup_unsubscribe(token=token)
    except DomainError as refused:
        return render(request, "polls/followup/closed.html", {"message": refused.message}, status=410)
    return render(request, "polls/followup/unsubscribe.html", {"done": True, "event": event})
