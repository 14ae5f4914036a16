"""Health checks of the services the platform depends on."""

import time
import uuid
from collections.abc import Callable

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from ops.workers import workers_status


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(key)


def _check_broker() -> None:
    # The project's Celery app is the default one in every process (config/celery.py).
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _check_storage() -> None:
    name = default_storage.save(f"health/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        if not default_storage.exists(name):
            raise RuntimeError("storage did not keep the file just written")
    finally:
        default_storage.delete(name)


def _check_workers() -> None:
    workers = workers_status()
    if workers["status"] == "stopped":
        age = workers["last_heartbeat_age_seconds"]
        seen = f"the last one {age:g} s ago" if age is not None else "none recorded yet"
        raise RuntimeError(f"no worker heartbeat within {settings.ATELIER_HEARTBEAT_STALE_SECONDS} s ({seen})")


def health_checks() -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {
        "database": _check_database,
        "cache": _check_cache,
        "storage": _check_storage,
        # Tasks running in the web process have no worker to lose; otherwise one must beat.
        "workers": _check_workers,
    }
    if settings.REDIS_URL:
        checks["broker"] = _check_broker
    return checks


def run_health_checks() -> dict[str, dict]:
    results = {}
    for name, check in health_checks().items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure makes this check fail, with its reason
            results[name] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
        else:
            results[name] = {"status": "ok"}
        results[name]["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return results
