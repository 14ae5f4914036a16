"""Periodic operator tasks: the worker heartbeat, queue samples and the usage rollups."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from ops.admin_api.rollup import usage_for
from ops.figures import database_figures
from ops.queues import queue_samples_record
from ops.workers import worker_heartbeat_record


@shared_task(bind=True, name="ops.heartbeat", ignore_result=True)
def heartbeat(self) -> int:
    worker_heartbeat_record(hostname=self.request.hostname, source="beat", force=True)
    if settings.ATELIER_ADMIN_STATUS_CACHE_SECONDS:
        database_figures(refresh=True)
    return queue_samples_record()


@shared_task(name="ops.rollup_usage", ignore_result=True)
def rollup_usage() -> int:
    """Stores the rollups of the settled days of the last weeks, so that no request pays for them."""
    today = timezone.now().date()
    return len(usage_for(start=today - timedelta(days=35), end=today - timedelta(days=1)).days)
