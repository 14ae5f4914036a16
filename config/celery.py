"""The Celery application.

The broker is Redis when ``REDIS_URL`` is set, else kombu's filesystem transport (the embedded
run: ``make run`` starts web, worker and beat over the folders under ``var/broker``). Either
way tasks run in a worker, never inside the request.
"""

import contextlib
import os
from pathlib import Path

from celery import Celery
from celery.schedules import crontab
from celery.signals import before_task_publish, heartbeat_sent, task_postrun, task_prerun, worker_init
from kombu import Queue
from kombu.transport import TRANSPORT_ALIASES

from core.request_context import get_request_id, set_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

# The filesystem broker writes each message atomically (core/broker.py); kombu's own can hand a
# worker a message file before it is written, and the worker then stops.
TRANSPORT_ALIASES["filesystem"] = "core.broker:AtomicFilesystemTransport"

app = Celery("atelier")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Celery's current app is per thread: a new app is current only in the thread that made it, and
# every other thread (a threaded web server's request threads, a live server's) would send with
# Celery's unconfigured fallback app. As the default, this one is current in every thread of
# every process that loads the settings (config/__init__.py imports this module), and the
# senders (core/task_messages.py) send through it.
app.set_default()

# The queues, declared once: workers consume them all (`python -m config.queues` prints the
# list for `celery worker -Q`). One queue per provider, so that a slow provider never holds up
# another: generation tasks are sent to their provider's queue (generation/services/dispatch.py
# names it); the others follow the routes, else go to the default queue.
PROVIDERS = ("local", "fal", "openai", "replicate", "huggingface", "comfyui")
app.conf.task_default_queue = "default"
app.conf.task_queues = [
    Queue(name) for name in ("default", *(f"generation.{provider}" for provider in PROVIDERS), "training")
]
app.conf.task_routes = {"training.*": {"queue": "training"}}

# Periodic work, kept in code so every deployment runs the same schedule (`celery beat`).
app.conf.beat_schedule = {
    "recover-stuck-generations": {"task": "generation.recover_stuck", "schedule": 60.0},
    "forget-expired-idempotency-keys": {"task": "generation.expire_idempotency_keys", "schedule": crontab(minute=17)},
    "refill-monthly-credits": {"task": "credits.refill_monthly", "schedule": crontab(minute=5)},
    # Requeues (or fails with a refund) trainings whose worker died, re-polls remote ones.
    "recover-stuck-trainings": {"task": "training.recover_stuck", "schedule": 60.0},
    # Worker liveness and queue depth samples (ops/workers.py, ops/queues.py).
    "ops-heartbeat": {"task": "ops.heartbeat", "schedule": 30.0},
    # The admin metrics' daily rollups, stored before anyone asks (ops/admin_api/rollup.py).
    "rollup-usage": {"task": "ops.rollup_usage", "schedule": crontab(minute=40)},
    # Webhook retries that are due, and any delivery whose message was lost.
    "deliver-due-webhooks": {"task": "webhooks.deliver_due", "schedule": 15.0},
}

# The header that carries the id of the request a task message was sent from (core/logging.py).
REQUEST_ID_HEADER = "request_id"


def worker_queues() -> list[str]:
    return [queue.name for queue in app.conf.task_queues]


@before_task_publish.connect
def _carry_request_id(headers=None, **kwargs) -> None:
    """Every message carries the id of the request (or task) that sent it, so that the worker's
    log lines about a generation join the request that created it."""
    if headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, get_request_id())


@task_prerun.connect
def _task_prerun(task=None, **kwargs) -> None:
    """What Django does at the start of every request, at the start of every task: drop a
    connection that broke (the database restarted) or outlived CONN_MAX_AGE. And the log lines
    of the task carry the request id its message brought."""
    if task is None or task.request.is_eager:
        return  # running inside the caller's request, transaction and request id
    from django.db import close_old_connections

    close_old_connections()
    set_request_id(task.request.get(REQUEST_ID_HEADER) or "-")


@task_postrun.connect
def _task_postrun(task=None, **kwargs) -> None:
    if task is not None and not task.request.is_eager:
        set_request_id("-")


@app.on_after_configure.connect
def _make_broker_folders(sender=None, source=None, **kwargs) -> None:
    """kombu's filesystem transport needs its folders to exist, in the web process (which sends
    the first message) as in the worker."""
    if (source.broker_url or "").startswith("filesystem://"):
        options = source.broker_transport_options or {}
        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)


@heartbeat_sent.connect
def _record_worker_heartbeat(sender=None, **kwargs) -> None:
    """Each heartbeat a worker sends (every few seconds) is written, throttled, where /health and
    /admin/api/status read worker liveness (ops/workers.py)."""
    # Imported when a heartbeat comes, not with this module: it loads with the settings, before
    # the apps (and their models) are ready.
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
    # Only once the apps are ready (this module loads with the settings, before them).
    from generation.providers import providers_warm

    providers_warm()
