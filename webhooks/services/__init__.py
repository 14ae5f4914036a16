"""Outbound webhooks: every write of the app, in four rooms.

``endpoints`` — operators' endpoints: create, change, delete, rotate the secret, send a test event.
``secrets`` — the signing secrets: an endpoint's, a user's for per-request ``webhook_url``s, rotation.
``emit`` — an event becomes one ``WebhookMessage`` (its id and exact body, identical on every
retry) and one ``WebhookDelivery`` per target, sent once the caller's transaction commits.
``delivery`` — the engine: claim a due delivery, send it signed, write its outcome while the claim
still holds, schedule the retry, and the sweep that sends what fell due.

Other apps reach the webhooks through signals (webhooks/receivers.py); the names below are what
the rest of this app, the admin and the tests call.
"""

from webhooks.services.delivery import CLAIM_LEASE, deliveries_due, deliveries_enqueue, delivery_attempt
from webhooks.services.emit import delivery_redeliver, webhook_event_emit, webhook_event_emit_safely
from webhooks.services.endpoints import (
    endpoint_create,
    endpoint_delete,
    endpoint_rotate_secret,
    endpoint_send_test,
    endpoint_update,
    endpoint_url_validate,
)
from webhooks.services.secrets import endpoint_secret_or_new, user_webhook_secret, user_webhook_secret_rotate

# The sender by its former name: tests/generation/test_tasks_by_name.py sends a delivery through it.
_enqueue = deliveries_enqueue

__all__ = [
    "CLAIM_LEASE",
    "_enqueue",
    "deliveries_due",
    "deliveries_enqueue",
    "delivery_attempt",
    "delivery_redeliver",
    "endpoint_create",
    "endpoint_delete",
    "endpoint_rotate_secret",
    "endpoint_secret_or_new",
    "endpoint_send_test",
    "endpoint_update",
    "endpoint_url_validate",
    "user_webhook_secret",
    "user_webhook_secret_rotate",
    "webhook_event_emit",
    "webhook_event_emit_safely",
]
