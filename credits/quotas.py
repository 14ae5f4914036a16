"""Plan quotas: generations per day and API requests per hour, per user.

The numbers come from the user's plan when it sets them, else from settings (seed 001: 50
generations a day, 100 requests an hour). Days are UTC days.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from credits.selectors import plan_for_user
from ops.errors import QuotaExceeded


def quota_limits(*, user) -> dict[str, int]:
    # Kept on the user object, which lives for one request: the hourly and daily checks of one
    # request then read the plan once.
    cached = getattr(user, "_atelier_quota_limits", None)
    if cached is not None:
        return cached
    plan = plan_for_user(user=user)
    daily = getattr(plan, "daily_generation_quota", None) or settings.ATELIER_DEFAULT_DAILY_GENERATIONS
    hourly = getattr(plan, "hourly_request_quota", None) or settings.ATELIER_DEFAULT_HOURLY_REQUESTS
    user._atelier_quota_limits = {"daily_generations": daily, "hourly_requests": hourly}
    return user._atelier_quota_limits


def _next_utc_midnight(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), time.min, tzinfo=now.tzinfo)


def daily_generation_quota(*, user) -> int | None:
    """Generations the user may start today; None when quotas are off."""
    if not settings.ATELIER_QUOTAS_ENABLED:
        return None
    return quota_limits(user=user)["daily_generations"]


def daily_generations_refuse(*, limit: int) -> None:
    """Raises QuotaExceeded for a daily quota of ``limit`` generations, with when it resets."""
    now = timezone.now()
    resets_at = _next_utc_midnight(now)
    raise QuotaExceeded(
        f"Daily generation quota of {limit} reached",
        details=f"The quota resets at {resets_at.isoformat()}",
        resets_at=resets_at.isoformat().replace("+00:00", "Z"),
        retry_after=int((resets_at - now).total_seconds()) + 1,
    )
