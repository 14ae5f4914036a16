from django.db.models import QuerySet

from core.process_cache import ProcessCache
from webhooks.models import WebhookDelivery, WebhookEndpoint

# Cleared by a save or delete of an endpoint in this process (webhooks/receivers.py).
endpoints_cache = ProcessCache("webhooks.endpoints")


def events_named_by_endpoints() -> frozenset[str]:
    """The events some active endpoint names: a generation's in-progress events, which only such
    endpoints receive, skip the endpoints' query when none does (almost always). Kept for
    ATELIER_PROCESS_CACHE_SECONDS, as the catalog is."""

    def load() -> frozenset[str]:
        named = WebhookEndpoint.objects.filter(is_active=True).order_by().values_list("events", flat=True)
        return frozenset(name for events in named for name in events)

    return endpoints_cache.get("named", load)


def endpoint_get(*, endpoint_id) -> WebhookEndpoint | None:
    try:
        return WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    except (ValueError, TypeError):
        return None


def endpoint_list() -> QuerySet:
    return WebhookEndpoint.objects.order_by("-created_at")


def delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet:
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("message")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")
    )


def delivery_get(*, endpoint: WebhookEndpoint, delivery_id) -> WebhookDelivery | None:
    try:
        return (
            WebhookDelivery.objects.select_related("message", "endpoint")
            .prefetch_related("attempt_log")
            .filter(pk=delivery_id, endpoint=endpoint)
            .first()
        )
    except (ValueError, TypeError):
        return None
