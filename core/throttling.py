"""Which requests count against the rate limits and the hourly request quota, and the 429 they get.

One rule decides whether a request counts at all (``request_counts``), for the group rate
limits and the plan's hourly request quota alike:

- A view that hands over a user's own bytes or a stream never counts: images, thumbnails,
  downloads, byte ranges and server-sent event streams. The view says so with
  ``ratelimit_exempt = True``, or a viewset with the names of those actions
  (``ratelimit_exempt = {"file", "thumbnail", "download"}``). Each such request belongs to a
  page or an answer that was already counted.
- A request that makes or changes something (any method but GET, HEAD and OPTIONS) counts,
  whoever sends it, browser or API client.
- A read counts when an API client makes it: with an API key (``Authorization: Bearer``), or
  without an account. The signed-in browser's own reads (session) never count: they are the
  web UI's page data and background calls (balance, lists, status polls).

A counted request counts in its endpoint group: a view names it with ``ratelimit_group``
(default ``general``), or per action / HTTP method with ``ratelimit_groups = {"create": None}``
(None: not counted in a group here, the view counts itself). The ``generation`` group and the
per-model limits are counted by the submission itself (``generation_submit``), whichever route
it came by. A counted request of a signed-in user also counts against the plan's hourly request
quota (credits.quotas), per account.

A refused request is a 429 in the envelope that says which limit, what is left and when it
resets: in words in ``details``, as the ``limit`` object (name, limit, remaining, window,
resets_at, retry_after) for programs, and in ``Retry-After``. docs/limits.md tells users the same.
"""

import re
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_ratelimit.core import get_usage
from rest_framework.authentication import SessionAuthentication
from rest_framework.throttling import BaseThrottle

from core.errors import LimitReached, QuotaExceeded, RateLimited

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _default_hourly_quota(user) -> int:
    return settings.ATELIER_DEFAULT_HOURLY_REQUESTS


# A user's hourly request quota comes from their plan, which is the credits app's knowledge: it
# hands its lookup over when it starts (credits/apps.py), so that the ground floor imports no app.
_hourly_quota_of: Callable[[object], int] = _default_hourly_quota


def hourly_quota_lookup_set(lookup: Callable[[object], int]) -> None:
    """Sets how the hourly request quota of a user is found (the credits app's plan lookup)."""
    global _hourly_quota_of
    _hourly_quota_of = lookup


# The cache group of the plans' hourly request quota.
QUOTA_GROUP = "quota-hourly"
# What a group counts, in the words of its 429.
GROUP_UNITS = {
    "general": "API requests",
    "generation": "generations",
    "gallery": "gallery requests",
    "prompt": "prompt requests",
    "training": "training starts",
    "admin": "admin API requests",
    "auth": "sign-in requests",
    "login-failed-ip": "failed sign-ins from this address",
    "login-failed-account": "failed sign-ins to this account",
}
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PERIOD_WORDS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}
_RATE = re.compile(r"(\d+)/(\d*)([smhd]?)")


def request_counts(request, view) -> bool:
    """Whether this request counts against the rate limits and the quota (the rule above)."""
    exempt = getattr(view, "ratelimit_exempt", False)
    if exempt is True or (not isinstance(exempt, bool) and getattr(view, "action", None) in exempt):
        return False
    if request.method not in SAFE_METHODS:
        return True
    return not isinstance(getattr(request, "successful_authenticator", None), SessionAuthentication)


def rate_parts(rate: str) -> tuple[int, int, str]:
    """A rate as django-ratelimit reads it, ``"100/15m"``: (100, 900, "15 minutes")."""
    match = _RATE.match(rate)
    if match is None:
        raise ValueError(f"Not a rate: {rate!r}")
    multiple, period = int(match[2] or 1), match[3] or "s"
    words = _PERIOD_WORDS[period] if multiple == 1 else f"{multiple} {_PERIOD_WORDS[period]}s"
    return int(match[1]), multiple * _PERIOD_SECONDS[period], words


def group_unit(group: str) -> str:
    if group.startswith("model:"):
        return f"generations with {group.removeprefix('model:')}"
    return GROUP_UNITS.get(group, f"{group} requests")


def client_key(group: str, request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get(settings.RATELIMIT_IP_META_KEY, '')}"


def _user_key(user):
    return lambda group, request: f"user:{user.pk}"


def _refusal(
    error: type[LimitReached], usage: dict, *, name: str, rate: str, unit: str, message: str, counts: str | None = None
) -> LimitReached:
    allowed, _, window = rate_parts(rate)
    # A cache that fails answers time_left -1: ask the client to wait a second, not forever.
    seconds = max(int(usage["time_left"]), 1)
    return error.reached(
        limit=name,
        allowed=allowed,
        unit=unit,
        window=window,
        resets_at=timezone.now() + timedelta(seconds=seconds),
        retry_after=seconds,
        message=message,
        counts=counts,
    )


def rate_limit_hit(request, *, group: str, rate: str, key=client_key) -> None:
    """Counts this request in ``group`` and raises RateLimited once the rate is exceeded."""
    usage = get_usage(request, group=group, key=key, rate=rate, increment=True)
    if usage and usage["should_limit"]:
        unit = group_unit(group)
        raise _refusal(RateLimited, usage, name=group, rate=rate, unit=unit, message=f"Too many {unit}")


def user_rate_limit_hit(*, user, group: str, rate: str) -> None:
    """``rate_limit_hit`` for a service, which has a user but no request (the same counters as
    the requests of that user)."""
    rate_limit_hit(None, group=group, rate=rate, key=_user_key(user))


def rate_limit_check(request, *, group: str, rate: str, key=client_key) -> None:
    """Raises RateLimited if the group is already over its rate, without counting."""
    usage = get_usage(request, group=group, key=key, rate=rate, increment=False)
    if usage and usage["count"] >= usage["limit"]:
        unit = group_unit(group)
        raise _refusal(RateLimited, usage, name=group, rate=rate, unit=unit, message=f"Too many {unit}")


def user_usage_read(*, user, group: str, rate: str) -> dict | None:
    """How much of ``rate`` the user has used in ``group`` and the seconds left in the window,
    without counting; None when rate limiting is off."""
    usage = get_usage(None, group=group, key=_user_key(user), rate=rate, increment=False)
    if usage is None:
        return None
    return {"used": min(usage["count"], usage["limit"]), "seconds_left": max(int(usage["time_left"]), 0)}


def view_group(request, view) -> str:
    """The view's group for this request; None: the view counts its requests itself."""
    groups = getattr(view, "ratelimit_groups", {})
    for name in (getattr(view, "action", None), request.method):
        if name in groups:
            return groups[name]
    return getattr(view, "ratelimit_group", "general")


def hourly_request_quota_hit(request) -> None:
    """Counts the request against the user's plan quota of requests per hour."""
    user = request.user
    if not (settings.ATELIER_QUOTAS_ENABLED and user.is_authenticated):
        return
    limit = _hourly_quota_of(user)
    rate = f"{limit}/h"
    usage = get_usage(request, group=QUOTA_GROUP, key=client_key, rate=rate, increment=True)
    if usage and usage["should_limit"]:
        raise _refusal(
            QuotaExceeded,
            usage,
            name="hourly_requests",
            rate=rate,
            unit="API requests",
            message=f"Hourly request quota of {limit} reached",
            counts="Your files, thumbnails, downloads, event streams and the web pages' own reads never count.",
        )


class GroupRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        if not request_counts(request, view):
            return True
        group = view_group(request, view)
        if group is not None:
            rate_limit_hit(request, group=group, rate=settings.ATELIER_RATE_LIMITS[group])
        hourly_request_quota_hit(request)
        return True
