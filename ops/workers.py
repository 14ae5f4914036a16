"""Worker liveness: each worker writes a heartbeat to the shared cache; /health reads it back.

Celery workers send a heartbeat event every few seconds from their main process; the
``heartbeat_sent`` signal (config/celery.py) records it here at most every
``ATELIER_HEARTBEAT_WRITE_SECONDS``. The periodic ``ops.heartbeat`` task records one too, which
also proves that a worker takes tasks from the queue and that beat runs.
"""

import socket
import time

from django.conf import settings
from django.core.cache import cache

from core.task_messages import tasks_run_in_process

CACHE_KEY = "ops:workers"
_last_written: dict[str, float] = {}


def worker_heartbeat_record(*, hostname: str | None = None, source: str = "worker", force: bool = False) -> None:
    hostname = hostname or socket.gethostname()
    now = time.time()
    if not force and now - _last_written.get(hostname, 0) < settings.ATELIER_HEARTBEAT_WRITE_SECONDS:
        return
    _last_written[hostname] = now
    # Read, merge and write back: two workers racing lose one beat, which the next one restores.
    workers = cache.get(CACHE_KEY) or {}
    cutoff = now - 10 * settings.ATELIER_HEARTBEAT_STALE_SECONDS
    workers = {name: beat for name, beat in workers.items() if beat.get("at", 0) >= cutoff}
    workers[hostname] = {"at": now, "source": source}
    cache.set(CACHE_KEY, workers, timeout=None)


def workers_status() -> dict:
    """Whether workers are alive: their last heartbeats, online when newer than the stale limit."""
    if tasks_run_in_process():
        return {"status": "in_process", "online": 1, "workers": [], "last_heartbeat_age_seconds": 0}
    now = time.time()
    stale = settings.ATELIER_HEARTBEAT_STALE_SECONDS
    workers = cache.get(CACHE_KEY) or {}
    listed = sorted(
        (
            {"hostname": name, "age_seconds": round(now - beat["at"], 1), "online": now - beat["at"] <= stale}
            for name, beat in workers.items()
        ),
        key=lambda worker: worker["age_seconds"],
    )
    online = sum(1 for worker in listed if worker["online"])
    return {
        "status": "running" if online else "stopped",
        "online": online,
        "workers": listed,
        "last_heartbeat_age_seconds": listed[0]["age_seconds"] if listed else None,
    }
