"""Rate limits per endpoint group, counted by django-ratelimit on the shared cache.

A view names its group with ``ratelimit_group`` (default ``general``), or per action / HTTP
method with ``ratelimit_groups = {"create": None}`` (None: not counted here). The ``generation`` group and the
per-model limits are counted by the submission itself (``generation_submit``), whichever route
it came by. A refused request is a 429 in the
envelope with ``Retry-After`` (the seconds left in the window).
"""

from django.conf import settings
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle

from ops.errors import QuotaExceeded, RateLimited


def client_key(group: str, request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get(settings.RATELIMIT_IP_META_KEY, '')}"


def rate_limit_hit(request, *, group: str, rate: str, key=client_key) -> None:
    """Counts this request in ``group`` and raises RateLimited once the rate is exceeded."""
    usage = get_usage(request, group=group, key=key, rate=rate, increment=True)
    if usage and usage["should_limit"]:
        raise RateLimited(
            details=f"Limit {usage['limit']} requests per window for {group}",
            retry_after=max(int(usage["time_left"]), 1),
        )


def user_rate_limit_hit(*, user, group: str, rate: str) -> None:
    """``rate_limit_hit`` for a service, which has a user but no request (the same counters as
    the requests of that user)."""
    rate_limit_hit(None, group=group, rate=rate, key=lambda group, request: f"user:{user.pk}")


def rate_limit_check(request, *, group: str, rate: str, key=client_key) -> None:
    """Raises RateLimited if the group is already over its rate, without counting."""
    usage = get_usage(request, group=group, key=key, rate=rate, increment=False)
    if usage and usage["count"] >= usage["limit"]:
        raise RateLimited(
            details=f"Limit {usage['limit']} per window for {group}", retry_after=max(int(usage["time_left"]), 1)
        )


def view_group(request, view) -> str:
    """The view's group for this request; None: the view counts its requests itself."""
    groups = getattr(view, "ratelimit_groups", {})
    for name in (getattr(view, "action", None), request.method):
        if name in groups:
            return groups[name]
    return getattr(view, "ratelimit_group", "general")


def hourly_request_quota_hit(request) -> None:
    """Counts the request against the user's plan quota of requests per hour."""
    from credits.quotas import quota_limits

    user = request.user
    if not (settings.ATELIER_QUOTAS_ENABLED and user.is_authenticated):
        return
    limit = quota_limits(user=user)["hourly_requests"]
    usage = get_usage(request, group="quota-hourly", key=client_key, rate=f"{limit}/h", increment=True)
    if usage and usage["should_limit"]:
        raise QuotaExceeded(
            f"Hourly request quota of {limit} reached",
            details=f"The quota resets in {int(usage['time_left'])} seconds",
            retry_after=max(int(usage["time_left"]), 1),
        )


class GroupRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        group = view_group(request, view)
        if group is not None:
            rate_limit_hit(request, group=group, rate=settings.ATELIER_RATE_LIMITS[group])
        hourly_request_quota_hit(request)
        return True
