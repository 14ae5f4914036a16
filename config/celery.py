"""The Celery application.

With ``REDIS_URL`` set the broker is Redis and workers run the tasks; without it the settings
make every task run eagerly inside the web process, with the same task code.
"""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("atelier")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work, kept in code so every deployment runs the same schedule (`celery beat`).
app.conf.beat_schedule = {
    "recover-stuck-generations": {"task": "generation.recover_stuck", "schedule": 60.0},
    "forget-expired-idempotency-keys": {"task": "generation.expire_idempotency_keys", "schedule": crontab(minute=17)},
    "refill-monthly-credits": {"task": "credits.refill_monthly", "schedule": crontab(minute=5)},
}


@task_prerun.connect
def _drop_unusable_database_connections(task=None, **kwargs) -> None:
    """What Django does at the start of every request, at the start of every task: drop a
    connection that broke (the database restarted) or outlived CONN_MAX_AGE."""
    if task is not None and task.request.is_eager:
        return  # running inside the caller's request and transaction
    from django.db import close_old_connections

    close_old_connections()


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

