"""What the operator console reads: the system's status, the users with their figures, usage
over a period. The staff API (ops/admin_api/) and the dashboard (ops/dashboard/) serve them."""

import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from core.numbers import parse_int
from credits.models import LedgerEntry
from credits.periods import next_refill_at
from gallery.models import Asset
from generation.models import Generation, Status
from generation.providers import providers_all
from ops.admin_api.rollup import usage_for
from ops.figures import database_figures
from ops.provider_health import provider_health
from ops.queues import queue_stats
from ops.workers import workers_status
from teams.models import Membership

# When this process started serving (the URL configuration imports this module at start-up).
PROCESS_STARTED = time.time()

ROLES = ("user", "admin")
STATUSES = ("active", "inactive")

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30, "quarter": 90, "year": 365}
MAX_DAYS = 366
TOP = 10


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


def user_role(user) -> str:
    return "admin" if user.is_staff else "user"


def admin_user_list(*, role: str | None = None, status: str | None = None, search: str = "", team=None) -> QuerySet:
    users = get_user_model().objects.select_related("credit_account__plan").order_by("-date_joined", "-id")
    if team:
        users = users.filter(team_memberships__team_id=team)
    if role:
        users = users.filter(is_staff=role == "admin")
    if status:
        users = users.filter(is_active=status == "active")
    if search:
        users = users.filter(
            Q(email__icontains=search) | Q(username__icontains=search) | Q(full_name__icontains=search)
        )
    return users


def user_by_id(user_id: str):
    """Seed 004 names users by number; the API elsewhere by UUID. Both are accepted."""
    users = get_user_model().objects
    number = parse_int(user_id)
    if number is not None:
        return users.filter(pk=number).first()
    try:
        return users.filter(uuid=uuid.UUID(user_id)).first()
    except ValueError:
        return None


def admin_user_figures(*, user_ids: list[int]) -> dict[int, dict]:
    """Images and credits used of one page of users: two grouped queries, whatever the page size."""
    images = dict(
        Asset.objects.filter(owner_id__in=user_ids)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    # Credits used: what generations were charged, less what was refunded to them.
    used = dict(
        LedgerEntry.objects.filter(user_id__in=user_ids, kind__in=[LedgerEntry.Kind.DEBIT, LedgerEntry.Kind.REFUND])
        .values("user_id")
        .annotate(net=Sum("amount"))
        .values_list("user_id", "net")
    )
    return {pk: {"total_images": images.get(pk, 0), "total_credits_used": -(used.get(pk) or 0)} for pk in user_ids}


def admin_user_row(user, figures: dict) -> dict:
    account = getattr(user, "credit_account", None)
    return {
        "id": user.pk,
        "uuid": str(user.uuid),
        "username": user.username,
        "email": user.email,
        "full_name": user.full_name,
        "role": user_role(user),
        "status": "active" if user.is_active else "inactive",
        "created_at": user.date_joined,
        "last_login": user.last_login,
        "subscription": {
            "plan": account.plan.name if account and account.plan_id else None,
            "credits_remaining": account.balance if account else 0,
        },
        "total_images": figures["total_images"],
        "total_credits_used": figures["total_credits_used"],
    }


def period_range(*, period: str | None, start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The inclusive range of days: explicit dates win; else the period that ends today (or at ``end``)."""
    days = PERIOD_DAYS[period or "month"]
    end = end or (today if start is None else min(today, start + timedelta(days=days - 1)))
    start = start or end - timedelta(days=days - 1)
    return start, end


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def usage_metrics(*, start: date, end: date, team=None) -> dict:
    """The period's figures, everyone's or (``team``) one team's work and members."""
    summary = usage_for(start=start, end=end, team_id=team)
    per_day = summary.days
    models: dict[str, int] = {}
    styles: dict[str, int] = {}
    for (model, style), images in summary.models.items():
        models[model] = models.get(model, 0) + images
        if style:
            styles[style] = styles.get(style, 0) + images

    daily = []
    day = start
    while day <= end:
        generations, images, credits, users = per_day.get(day, [0, 0, 0, 0])
        daily.append(
            {"date": day.isoformat(), "images": images, "credits": credits, "users": users, "generations": generations}
        )
        day += timedelta(days=1)

    images_total = sum(row["images"] for row in daily)
    styled_total = sum(styles.values())
    since = datetime.combine(start, clock_time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), clock_time.min, tzinfo=UTC)
    top_models = sorted(models.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    top_styles = sorted(styles.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "days": (end - start).days + 1},
        "totals": {
            "images_generated": images_total,
            "credits_consumed": sum(row["credits"] for row in daily),
            "active_users": len(summary.active),
            "new_registrations": (
                get_user_model().objects.filter(date_joined__gte=since, date_joined__lt=until)
                if team is None
                else Membership.objects.filter(team_id=team, joined_at__gte=since, joined_at__lt=until)
            ).count(),
            "generations": sum(row["generations"] for row in daily),
        },
        "daily_stats": daily,
        "popular_models": [
            {"model": model, "usage": _percent(images, images_total), "images": images} for model, images in top_models
        ],
        "popular_styles": [
            {"style": style, "percentage": _percent(images, styled_total), "images": images}
            for style, images in top_styles
        ],
    }
