"""Deployment checks of our own, run by `manage.py check --deploy` beside Django's."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def laptop_conveniences_are_off(app_configs, **kwargs):
    errors = []
    if getattr(settings, "LOCAL", False):
        errors.append(
            Error(
                "CASEBOARD_LOCAL is on: a generated key, cookies without Secure and no HTTPS redirect.",
                hint="Unset CASEBOARD_LOCAL and set SECRET_KEY, ALLOWED_HOSTS and HTTPS for a server.",
                id="caseboard.E001",
            )
        )
    if settings.SECRET_KEY.startswith("django-insecure-") or settings.SECRET_KEY.startswith("dev-only"):
        errors.append(
            Error(
                "SECRET_KEY is a development key.",
                hint="Set SECRET_KEY to a long random value kept out of the repository.",
                id="caseboard.E002",
            )
        )
    return errors
