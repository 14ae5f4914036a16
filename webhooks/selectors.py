from django.db.models import QuerySet

from webhooks.models import WebhookDelivery, WebhookEndpoint


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
