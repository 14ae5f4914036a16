"""What provider adapters look up beside the job itself: how soon to poll, which log lines are new."""

from django.conf import settings


def poll_after() -> float:
    """With a webhook on its way, polls are only the fallback: rarer."""
    return settings.ATELIER_WEBHOOK_POLL_FALLBACK_SECONDS if settings.PUBLIC_BASE_URL else 0.0


def unseen(key: str, items: list, *, keep_seconds: int) -> list:
    """The items of a list a provider resends in full each time (its logs) that were not seen
    under ``key`` before; remembers how many were seen for ``keep_seconds``."""
    from django.core.cache import cache

    seen = cache.get(key, 0)
    fresh = items[seen:]
    if fresh:
        cache.set(key, len(items), keep_seconds)
    return fresh
