"""Events into messages and deliveries.

``webhook_event_emit`` records one ``WebhookMessage`` (its id and exact body, the same on every
retry) and one ``WebhookDelivery`` per target: each active endpoint subscribed to the event, and
any extra target such as a generation's own ``webhook_url``. The deliveries are sent by the
``webhooks.deliver`` task once the transaction that produced the event has committed.
"""

import json
import logging
import uuid
from functools import partial

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from webhooks.models import EVENT_NAMES, WebhookDelivery, WebhookEndpoint, WebhookMessage
from webhooks.services.delivery import deliveries_enqueue

logger = logging.getLogger(__name__)


def message_body(*, event: str, data: dict) -> str:
    """The envelope every event is sent in: ``{"type", "timestamp", "data"}``."""
    return json.dumps(
        {"type": event, "timestamp": timezone.now().isoformat().replace("+00:00", "Z"), "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )


def message_create(*, event: str, data: dict, subject: str = "", send_at=None) -> WebhookMessage:
    # The id must not contain "." (it is part of the signed content's separators).
    msg_id = f"msg_{uuid.uuid4().hex}"
    return WebhookMessage.objects.create(
        id=msg_id, event=event, body=message_body(event=event, data=data), subject=subject, send_at=send_at
    )


def deliveries_create(*, message: WebhookMessage, targets: list[dict], at=None) -> list[WebhookDelivery]:
    """One pending delivery per target (``{"endpoint": …, "url": …}`` or ``{"url": …, "user_id": …}``),
    due now (or ``at``) and sent after the caller's transaction commits (a delayed message when
    due later)."""
    now = timezone.now()
    due = at or now
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(message=message, next_attempt_at=due, **target) for target in targets]
    )
    countdown = (due - now).total_seconds() if due > now else None
    transaction.on_commit(partial(deliveries_enqueue, [delivery.pk for delivery in deliveries], countdown=countdown))
    return deliveries


def event_targets(*, event: str) -> list[dict]:
    """The active endpoints that subscribe to ``event``."""
    return [
        {"endpoint": endpoint, "url": endpoint.url}
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).order_by()
        if endpoint.receives(event)
    ]


def webhook_event_emit(*, event: str, payload: dict, extra_targets: list[dict] | None = None) -> WebhookMessage | None:
    """Sends ``event`` to every active endpoint subscribed to it (and to ``extra_targets``:
    ``{"url": …, "user_id": …}`` for a per-request webhook_url, signed with that user's secret),
    once the caller's transaction commits. None when no one listens."""
    if event not in EVENT_NAMES:
        raise ValueError(f"Unknown webhook event {event!r}")
    targets = event_targets(event=event) + (extra_targets or [])
    if not targets:
        return None
    message = message_create(event=event, data=payload)
    deliveries_create(message=message, targets=targets)
    return message


def webhook_event_emit_safely(*, event: str, payload: dict, extra_targets: list[dict] | None = None) -> None:
    """For signal receivers: an event that cannot be recorded must not break what caused it."""
    try:
        with transaction.atomic():
            webhook_event_emit(event=event, payload=payload, extra_targets=extra_targets)
    except Exception:
        logger.warning("Could not emit the %s webhook event", event, exc_info=True)


def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """The same message (same ``webhook-id``, so receivers can dedupe) sent again, as a new delivery."""
    return deliveries_create(
        message=delivery.message,
        targets=[
            {
                "endpoint": delivery.endpoint,
                "user": delivery.user,
                "url": delivery.endpoint.url if delivery.endpoint_id else delivery.url,
            }
        ],
    )[0]
