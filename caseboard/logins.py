"""Login throttle: django-axes, with two budgets (settings.py, AXES_*; README, "Configuration").

- One account from one address: `AXES_FAILURE_LIMIT` (CASEBOARD_LOGIN_FAILURES, 5) wrong
  passwords, then that username is refused from that address until `AXES_COOLOFF_TIME` has passed
  since its last counted failure. The same moderator logging in from anywhere else is not affected,
  so an attacker cannot lock a moderator out of a live event from another network.
- One address, any usernames: `CASEBOARD_LOGIN_FAILURES_PER_ADDRESS` (30) wrong passwords within
  the cool-off, then every login from that address is refused until the cool-off has passed
  (spraying many usernames from one address). Higher, so that a hospital's moderators behind one
  NAT address who mistype now and then do not add up to a lockout.

Axes keys its records on `ip_address` (the client by `caseboard.clientip`, through
`AXES_CLIENT_IP_CALLABLE`) and username; this handler adds the second budget to axes' check.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class LoginThrottle(AxesDatabaseHandler):
    def is_locked(self, request, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        ip = getattr(request, "axes_ip_address", None)
        if not ip:
            return False
        recent = AccessAttempt.objects.filter(ip_address=ip, attempt_time__gt=get_cool_off_threshold(request))
        failures = recent.aggregate(total=Sum("failures_since_start"))["total"] or 0
        return failures >= settings.CASEBOARD["LOGIN_FAILURES_PER_ADDRESS"]
