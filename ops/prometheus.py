"""``GET /metrics``: the operator figures in Prometheus' text format, for staff or a token.

The figures are read at scrape time by a custom collector (the same queries as
``/admin/api/status``), so every web process answers the same numbers.
"""

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from core.envelope import error_body
from core.errors import ErrorType
from ops.figures import database_figures
from ops.provider_health import provider_health
from ops.queues import queue_stats
from ops.workers import workers_status
from webhooks.models import WebhookDelivery


class AtelierCollector:
    def collect(self):
        figures = database_figures()
        yield GaugeMetricFamily("atelier_users", "Registered users.", value=figures["total_users"])
        yield GaugeMetricFamily("atelier_images", "Stored images and videos.", value=figures["total_images"])
        yield GaugeMetricFamily("atelier_storage_bytes", "Bytes of stored images.", value=figures["storage_used_bytes"])

        depth = GaugeMetricFamily("atelier_queue_depth", "Jobs waiting in a queue.", labels=["queue"])
        oldest = GaugeMetricFamily(
            "atelier_queue_oldest_job_age_seconds", "Age of the oldest waiting job.", labels=["queue"]
        )
        running = GaugeMetricFamily("atelier_jobs_processing", "Jobs a worker is running.", labels=["queue"])
        for queue in queue_stats():
            depth.add_metric([queue["queue"]], queue["depth"])
            oldest.add_metric([queue["queue"]], queue["oldest_job_age_seconds"] or 0)
            running.add_metric([queue["queue"]], queue["processing"])
        yield from (depth, oldest, running)

        window = settings.ATELIER_PROVIDER_HEALTH_WINDOW_MINUTES
        calls = GaugeMetricFamily(
            "atelier_provider_calls_window", f"Provider calls in the last {window} minutes.", labels=["provider"]
        )
        failures = GaugeMetricFamily(
            "atelier_provider_failures_window",
            f"Failed provider calls in the last {window} minutes.",
            labels=["provider"],
        )
        latency = GaugeMetricFamily(
            "atelier_provider_latency_seconds",
            f"Provider call latency percentiles over the last {window} minutes.",
            labels=["provider", "quantile"],
        )
        for name, stats in sorted(provider_health(minutes=window).items()):
            calls.add_metric([name], stats["calls"])
            failures.add_metric([name], stats["failures"])
            for quantile, key in (("0.5", "p50_ms"), ("0.95", "p95_ms")):
                if stats[key] is not None:
                    latency.add_metric([name, quantile], stats[key] / 1000)
        yield from (calls, failures, latency)

        workers = workers_status()
        yield GaugeMetricFamily("atelier_workers_online", "Workers with a recent heartbeat.", value=workers["online"])
        yield GaugeMetricFamily(
            "atelier_webhook_deliveries_pending",
            "Webhook deliveries waiting for their next attempt.",
            value=WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count(),
        )


def _allowed(request) -> bool:
    token = settings.ATELIER_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def metrics_view(request):
    if request.method != "GET":
        return JsonResponse(
            error_body(error="Method not allowed", type=ErrorType.METHOD_NOT_ALLOWED, status=405), status=405
        )
    if not _allowed(request):
        status = 403 if getattr(request.user, "is_authenticated", False) else 401
        error = "Staff only" if status == 403 else "Authentication required: a staff session or the metrics token"
        kind = ErrorType.PERMISSION_DENIED if status == 403 else ErrorType.AUTHENTICATION_REQUIRED
        return JsonResponse(error_body(error=error, type=kind, status=status), status=status)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AtelierCollector())
    return HttpResponse(generate_latest(registry), content_type="text/plain; version=0.0.4; charset=utf-8")
