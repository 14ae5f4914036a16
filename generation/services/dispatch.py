"""Sending task messages: one queue per provider, with that provider's time limits.

Tasks are sent by name (the services never import the tasks module that calls them).
"""

import functools
import random

import redis
from celery import current_app
from django.conf import settings
from django.utils import timezone

from core.task_messages import task_send
from generation.models import Generation


def provider_time_limits(provider: str) -> dict[str, int]:
    limits = settings.ATELIER_PROVIDER_TIME_LIMITS
    return limits.get(provider, limits["default"])


def provider_queue(provider: str) -> str:
    return f"generation.{provider}"


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Exponential backoff with full jitter (AWS architecture blog's recommendation)."""
    return random.uniform(0, min(cap, base * 2**attempt))


def queue_waiting(provider: str) -> int | None:
    """How many messages wait at the broker in ``provider``'s queue: one Redis ``LLEN``.

    None when that cannot be asked (a broker other than Redis, such as the embedded run's
    filesystem one, or Redis unreachable); the caller then counts queued generations in the
    database instead. Messages a worker has already reserved (one per worker process) are no
    longer in the list.
    """
    return broker_queue_length(provider_queue(provider))


def broker_queue_length(queue: str) -> int | None:
    """How many messages wait at the broker in ``queue`` (one Redis ``LLEN``); None when the
    broker cannot say (see ``queue_waiting``)."""
    url = current_app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://")):
        return None
    try:
        return _broker_client(url).llen(queue)
    except redis.RedisError:
        return None


@functools.cache
def _broker_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def generation_dispatch(
    *, generation_id, countdown: float | None = None, provider: str | None = None, record: bool = True
) -> None:
    """Sends the run message. ``record=False`` when the caller already set ``dispatched_at``."""
    if provider is None:
        provider = Generation.objects.values_list("provider", flat=True).get(pk=generation_id)
    limits = provider_time_limits(provider)
    if record:
        Generation.objects.filter(pk=generation_id).update(dispatched_at=timezone.now())
    task_send(
        "generation.run",
        args=[str(generation_id)],
        queue=provider_queue(provider),
        countdown=countdown,
        soft_time_limit=limits["soft"],
        time_limit=limits["hard"],
    )


def generation_schedule_poll(*, generation_id, provider: str, attempt: int, at_least: float = 0.0) -> None:
    delay = min(
        settings.ATELIER_POLL_INTERVAL_MAX_SECONDS,
        settings.ATELIER_POLL_INTERVAL_SECONDS * 1.5**attempt,
    )
    delay = max(delay, at_least)
    Generation.objects.filter(pk=generation_id).update(next_poll_at=timezone.now() + timezone.timedelta(seconds=delay))
    task_send("generation.poll", args=[str(generation_id), attempt], queue=provider_queue(provider), countdown=delay)


def provider_webhook_dispatch(*, generation_id, provider: str, payload: dict) -> None:
    """Hands a verified provider webhook to a worker of the provider's queue."""
    task_send("generation.apply_provider_webhook", args=[str(generation_id), payload], queue=provider_queue(provider))
