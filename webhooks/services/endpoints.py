"""Operators' endpoints: create, change, delete, rotate the secret, send a test event."""

from django.utils import timezone

from core.errors import UrlRefused, ValidationFailed
from webhooks.models import EVENT_NAMES, WebhookDelivery, WebhookEndpoint
from webhooks.services.emit import deliveries_create, message_create
from webhooks.services.secrets import endpoint_secret_or_new, secret_rotate
from webhooks.transport import url_check


def endpoint_url_validate(*, url: str) -> str:
    """``url`` when the URL guard lets it through (400 ``url`` if not); checked again at each delivery."""
    try:
        url_check(url)
    except UrlRefused as exc:
        raise ValidationFailed("The webhook URL was refused", details={"url": [exc.message]}) from exc
    return url


def _valid_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_NAMES))
    if unknown:
        raise ValidationFailed(
            details={"events": [f"Unknown event(s): {', '.join(unknown)}. Known: {', '.join(EVENT_NAMES)}."]}
        )
    return sorted(set(events))


def endpoint_create(
    *, url: str, events: list[str], secret: str | None = None, description: str = "", created_by=None
) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url=endpoint_url_validate(url=url),
        events=_valid_events(events),
        secret=endpoint_secret_or_new(secret=secret),
        description=description,
        created_by=created_by,
    )


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    if url is not None:
        endpoint.url = endpoint_url_validate(url=url)
    if events is not None:
        endpoint.events = _valid_events(events)
    if description is not None:
        endpoint.description = description
    if is_active is not None and is_active != endpoint.is_active:
        endpoint.is_active = is_active
        # Enabling again starts the failure count afresh; disabling by hand says who did it.
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None if is_active else timezone.now()
        endpoint.disabled_reason = "" if is_active else "Disabled by staff"
    endpoint.save()
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, secret: str | None = None) -> WebhookEndpoint:
    """A new secret signs from now on; the old one signs too for 24 hours (two signatures)."""
    secret_rotate(holder=endpoint, secret=secret, now=timezone.now())
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return endpoint


def endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """ "Send a test event": a ``webhook.test`` message to this endpoint alone, active or not."""
    message = message_create(
        event="webhook.test", data={"endpoint_id": str(endpoint.pk), "message": "This is a test event from Atelier."}
    )
    return deliveries_create(message=message, targets=[{"endpoint": endpoint, "url": endpoint.url}])[0]
