"""``GET /admin/api/status``: the system, the database, the providers as measured, the workers."""

import os
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection

from credits.periods import next_refill_at
from generation.models import Generation, Status
from generation.providers import providers_all
from ops.figures import database_figures
from ops.provider_health import provider_health
from ops.queues import queue_stats
from ops.workers import workers_status

# When this process started serving (the URL configuration imports this module at start-up).
PROCESS_STARTED = time.time()


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def human_uptime(seconds: float) -> str:
    """Seed 004's form: ``7 days, 14:32:15``."""
    delta = timedelta(seconds=int(seconds))
    hours, rest = divmod(delta.seconds, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}"
    if delta.days:
        return f"{delta.days} day{'s' if delta.days != 1 else ''}, {clock}"
    return clock


def environment_name() -> str:
    if settings.ATELIER_ENVIRONMENT:
        return settings.ATELIER_ENVIRONMENT
    module = settings.SETTINGS_MODULE or os.environ.get("DJANGO_SETTINGS_MODULE", "")
    return {"production": "production", "dev": "development", "test": "test"}.get(
        module.rsplit(".", 1)[-1], "development"
    )


def _provider_status(*, configured: bool, measured: dict | None) -> str:
    if not configured:
        return "unavailable"
    if measured and measured["calls"] >= settings.ATELIER_PROVIDER_DEGRADED_MIN_CALLS:
        if measured["success_rate"] < settings.ATELIER_PROVIDER_DEGRADED_SUCCESS_RATE:
            return "degraded"
    return "active"


def providers_overview() -> list[dict]:
    window = settings.ATELIER_PROVIDER_HEALTH_WINDOW_MINUTES
    measured = provider_health(minutes=window)
    rows = []
    for name, provider in sorted(providers_all().items()):
        stats = measured.get(name)
        p50 = stats["p50_ms"] if stats else None
        rate = stats["success_rate"] if stats else None
        rows.append(
            {
                "name": name,
                "status": _provider_status(configured=provider.is_configured(), measured=stats),
                "response_time": f"{p50 / 1000:.1f}s" if p50 is not None else None,
                "success_rate": f"{rate:.1f}%" if rate is not None else None,
                "measured": {
                    "window_minutes": window,
                    "calls": stats["calls"] if stats else 0,
                    "failures": stats["failures"] if stats else 0,
                    "p50_ms": p50,
                    "p95_ms": stats["p95_ms"] if stats else None,
                    "success_rate_percent": rate,
                },
            }
        )
    return rows


def admin_status() -> dict:
    try:
        figures = database_figures()
        database = {"status": "connected", "vendor": connection.vendor, **figures}
        database["storage_used"] = human_bytes(figures["storage_used_bytes"])
    except Exception as exc:  # noqa: BLE001 - the status page reports the failure instead of failing
        database = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
    workers = workers_status()
    queues = queue_stats()
    providers = providers_overview()
    healthy = database["status"] == "connected" and workers["status"] != "stopped"
    return {
        "system": {
            "status": "healthy" if healthy else "degraded",
            "uptime": human_uptime(time.time() - PROCESS_STARTED),
            "uptime_seconds": int(time.time() - PROCESS_STARTED),
            "version": settings.ATELIER_VERSION,
            "build_date": settings.ATELIER_BUILD_DATE,
            "environment": environment_name(),
        },
        "database": database,
        "ai_providers": providers,
        "scheduler": {
            "status": workers["status"],
            "online_workers": workers["online"],
            "workers": workers["workers"],
            "last_heartbeat_age_seconds": workers["last_heartbeat_age_seconds"],
            "active_jobs": Generation.objects.filter(status=Status.PROCESSING).count(),
            "queued_jobs": sum(queue["depth"] for queue in queues),
            "queues": queues,
            "next_credit_reset": next_refill_at(),
        },
    }
