"""The Celery application.

With ``REDIS_URL`` set the broker is Redis and workers run the tasks; without it the settings
make every task run eagerly inside the web process, with the same task code.
"""

import contextlib
import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import heartbeat_sent, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("atelier")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work, kept in code so every deployment runs the same schedule (`celery beat`).
app.conf.beat_schedule = {
    "recover-stuck-generations": {"task": "generation.recover_stuck", "schedule": 60.0},
    "forget-expired-idempotency-keys": {"task": "generation.expire_idempotency_keys", "schedule": crontab(minute=17)},
    "refill-monthly-credits": {"task": "credits.refill_monthly", "schedule": crontab(minute=5)},
    # Requeues (or fails with a refund) trainings whose worker died, re-polls remote ones.
    "recover-stuck-trainings": {"task": "training.recover_stuck", "schedule": 60.0},
    # Worker liveness and queue depth samples (ops/workers.py, ops/queues.py).
    "ops-heartbeat": {"task": "ops.heartbeat", "schedule": 30.0},
    # Webhook retries that are due, and any delivery whose message was lost.
    "deliver-due-webhooks": {"task": "webhooks.deliver_due", "schedule": 15.0},
}


@task_prerun.connect
def _drop_unusable_database_connections(task=None, **kwargs) -> None:
    """What Django does at the start of every request, at the start of every task: drop a
    connection that broke (the database restarted) or outlived CONN_MAX_AGE."""
    if task is not None and task.request.is_eager:
        return  # running inside the caller's request and transaction
    from django.db import close_old_connections

    close_old_connections()


@heartbeat_sent.connect
def _record_worker_heartbeat(sender=None, **kwargs) -> None:
    """Each heartbeat a worker sends (every few seconds) is written, throttled, where /health and
    /admin/api/status read worker liveness (ops/workers.py)."""
    from ops.workers import worker_heartbeat_record

    # A cache hiccup must not stop the worker's heartbeat.
    with contextlib.suppress(Exception):
        worker_heartbeat_record(hostname=getattr(getattr(sender, "eventer", None), "hostname", None))


@worker_init.connect
def _warm_providers(**kwargs) -> None:
    """Loads the configured providers' SDKs and clients in the worker's main process, before its
    pool forks: the pool processes share them instead of each loading them during its first
    job, when a burst of jobs arrives (``Provider.warm``)."""
    from django.apps import apps

    if not apps.ready:
        return
    from generation.providers import providers_warm

    providers_warm()

