"""Queue depth and the age of the oldest waiting job, per queue (one per provider, and the
training queue), now and sampled."""

from datetime import datetime

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from generation.models import Generation, Status
from generation.providers import provider_names
from generation.services.dispatch import broker_queue_length, provider_queue, queue_waiting
from ops.models import QueueSample
from training.models import RUNNING_STATUSES, TrainingJob
from training.models import Status as TrainingStatus


def queue_stats(*, now: datetime | None = None) -> list[dict]:
    """Every queue: jobs waiting (database), messages at the broker, oldest wait; the provider
    queues, then the training queue (its ``provider`` is None: it serves every training provider).

    One grouped query on the (status, provider, queued_at) index, whatever the table's size.
    """
    now = now or timezone.now()
    waiting = {
        row["provider"]: row
        for row in Generation.objects.filter(status=Status.IN_QUEUE)
        .values("provider")
        .annotate(depth=Count("id"), oldest=Min("queued_at"))
    }
    processing = dict(
        Generation.objects.filter(status=Status.PROCESSING)
        .values("provider")
        .annotate(n=Count("id"))
        .values_list("provider", "n")
    )
    stats = []
    for name in sorted(set(provider_names()) | set(waiting) | set(processing)):
        row = waiting.get(name, {})
        oldest = row.get("oldest")
        stats.append(
            {
                "queue": provider_queue(name),
                "provider": name,
                "depth": row.get("depth", 0),
                "processing": processing.get(name, 0),
                "broker_messages": queue_waiting(name),
                "oldest_job_age_seconds": _age(now, oldest),
            }
        )
    stats.append(_training_queue_stats(now=now))
    return stats


def _age(now: datetime, since: datetime | None) -> int | None:
    return max(0, round((now - since).total_seconds())) if since else None


def _training_queue_stats(*, now: datetime) -> dict:
    queued = TrainingJob.objects.filter(status=TrainingStatus.QUEUED).aggregate(
        depth=Count("id"), oldest=Min("created_at")
    )
    queue = settings.ATELIER_TRAINING_QUEUE
    return {
        "queue": queue,
        "provider": None,
        "depth": queued["depth"],
        "processing": TrainingJob.objects.filter(status__in=RUNNING_STATUSES).count(),
        "broker_messages": broker_queue_length(queue),
        "oldest_job_age_seconds": _age(now, queued["oldest"]),
    }


def queue_samples_record(*, now: datetime | None = None) -> int:
    """Writes this minute's depth and oldest wait of every queue (idempotent within the minute)."""
    now = now or timezone.now()
    minute = now.replace(second=0, microsecond=0)
    written = 0
    for row in queue_stats(now=now):
        QueueSample.objects.update_or_create(
            queue=row["queue"],
            minute=minute,
            defaults={"depth": row["depth"], "oldest_age_seconds": row["oldest_job_age_seconds"]},
        )
        written += 1
    return written
