"""What the admin dashboard shows, read with the admin API's own aggregate queries."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from ops.dashboard.charts import Point, bar_list, column_chart
from ops.models import QueueSample
from ops.provider_health import provider_health
from ops.queues import queue_stats
from ops.selectors import usage_metrics
from ops.workers import workers_status
from webhooks.models import WebhookDelivery, WebhookEndpoint

DAYS = 30
QUEUE_HISTORY_HOURS = 6


def _day_label(iso: str) -> str:
    return iso[5:]  # MM-DD


def dashboard_context() -> dict:
    today = timezone.now().date()
    usage = usage_metrics(start=today - timedelta(days=DAYS - 1), end=today)
    daily = usage["daily_stats"]
    window = settings.ATELIER_PROVIDER_HEALTH_WINDOW_MINUTES
    health = provider_health(minutes=window)
    queues = queue_stats()
    since = timezone.now() - timedelta(hours=QUEUE_HISTORY_HOURS)
    history = (
        QueueSample.objects.filter(minute__gte=since).values("minute").annotate(depth=Sum("depth")).order_by("minute")
    )
    charts = [
        {
            "title": f"Generations per day (last {DAYS} days)",
            "svg": column_chart(
                [Point(_day_label(d["date"]), d["generations"]) for d in daily],
                title="Generations per day",
                slug="generations",
            ),
        },
        {
            "title": "Credits consumed per day",
            "svg": column_chart(
                [Point(_day_label(d["date"]), d["credits"]) for d in daily], title="Credits per day", slug="credits"
            ),
        },
        {
            "title": "Active users per day",
            "svg": column_chart(
                [Point(_day_label(d["date"]), d["users"]) for d in daily], title="Active users per day", slug="users"
            ),
        },
        {
            "title": "Top models (images)",
            "svg": bar_list(
                [Point(m["model"] or "?", m["images"], f"{m['usage']}%") for m in usage["popular_models"]],
                title="Top models",
                slug="models",
            ),
        },
        {
            "title": f"Provider latency, p50 (last {window} min)",
            "svg": bar_list(
                [
                    Point(name, stats["p50_ms"] or 0, f"p95 {stats['p95_ms']} ms, {stats['calls']} calls")
                    for name, stats in sorted(health.items())
                ],
                title="Provider latency p50",
                slug="latency",
                unit=" ms",
            ),
        },
        {
            "title": f"Provider success rate (last {window} min)",
            "svg": bar_list(
                [
                    Point(name, stats["success_rate"] or 0, f"{stats['failures']} failed")
                    for name, stats in sorted(health.items())
                ],
                title="Provider success rate",
                slug="success",
                unit="%",
            ),
        },
        {
            "title": "Queue depth now (waiting jobs)",
            "svg": bar_list(
                [
                    Point(
                        q["queue"],
                        q["depth"],
                        f"oldest {q['oldest_job_age_seconds']} s" if q["oldest_job_age_seconds"] is not None else "",
                    )
                    for q in queues
                ],
                title="Queue depth",
                slug="queues",
            ),
        },
        {
            "title": f"Queued jobs, sampled each minute (last {QUEUE_HISTORY_HOURS} h)",
            "svg": column_chart(
                [Point(timezone.localtime(row["minute"]).strftime("%H:%M"), row["depth"]) for row in history],
                title="Queued jobs over time",
                slug="queue-history",
            ),
        },
    ]
    return {
        "dashboard": {
            "totals": usage["totals"],
            "charts": charts,
            "workers": workers_status(),
            "days": DAYS,
            "webhooks": _webhooks_summary(),
        }
    }


def _webhooks_summary() -> dict:
    return {
        "endpoints": WebhookEndpoint.objects.count(),
        "disabled": WebhookEndpoint.objects.filter(is_active=False).count(),
        "pending": WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count(),
        "failed_today": WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.FAILED, finished_at__date=timezone.now().date()
        ).count(),
    }
