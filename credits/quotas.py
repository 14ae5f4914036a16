"""Plan quotas: generations per day and API requests per hour, per user.

The numbers come from the user's plan when it sets them, else from settings (seed 001: 50
generations a day, 100 requests an hour). Days are UTC days. Which requests count against the
hourly quota is core.throttling's rule (calls that make or change things, and API clients'
reads; never files, thumbnails, downloads, event streams or the web pages' own reads).
"""

from django.conf import settings
from django.utils import timezone

from core.errors import QuotaExceeded

# The plan's numbers are a read (credits.selectors); they are named here too, where the checks
# that use them have always found them.
from credits.selectors import next_utc_midnight, quota_limits

__all__ = ["daily_generation_quota", "daily_generations_refuse", "next_utc_midnight", "quota_limits"]


def daily_generation_quota(*, user) -> int | None:
    """Generations the user may start today; None when quotas are off."""
    if not settings.ATELIER_QUOTAS_ENABLED:
        return None
    return quota_limits(user=user)["daily_generations"]


def daily_generations_refuse(*, limit: int) -> None:
    """Raises QuotaExceeded for a daily quota of ``limit`` generations, with when it resets."""
    now = timezone.now()
    resets_at = next_utc_midnight(now)
    raise QuotaExceeded.reached(
        limit="daily_generations",
        allowed=limit,
        unit="generations",
        window="day (UTC)",
        resets_at=resets_at,
        retry_after=int((resets_at - now).total_seconds()) + 1,
        message=f"Daily generation quota of {limit} reached",
    )
