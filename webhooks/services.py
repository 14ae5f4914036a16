"""Outbound webhooks: endpoints, events, deliveries, attempts. Every write of the app is here.

An event becomes one ``WebhookMessage`` (its id and exact body, identical on every retry) and
one ``WebhookDelivery`` per endpoint that subscribes to it, sent by the ``webhooks.deliver``
task once the transaction that produced the event has committed. A failed attempt is retried
on the Standard Webhooks schedule with jitter (``Retry-After`` wins when it asks for longer);
410 Gone disables the endpoint; an endpoint failing too many attempts in a row is disabled and
staff are told by email.
"""

import json
import logging
import random
import uuid
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from generation.inputs.url_fetch import UrlRefused
from ops.errors import ValidationFailed
from ops.task_messages import task_send
from webhooks.models import (
    EVENT_NAMES,
    UserWebhookSecret,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)
from webhooks.signing import secret_new, secret_problem, signature_header
from webhooks.transport import AttemptResult, post_signed, url_check

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
# How long a worker holds a delivery it claimed before the sweep may hand it to another.
CLAIM_LEASE = timedelta(seconds=120)


def endpoint_url_validate(url: str) -> str:
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


def endpoint_secret_or_new(secret: str | None) -> str:
    if not secret:
        return secret_new()
    problem = secret_problem(secret)
    if problem:
        raise ValidationFailed(details={"secret": [problem]})
    return secret


def webhook_url_accepted(*, url: str | None) -> str:
    """A generation's ``webhook_url``, checked when it is asked for (400 ``webhook_url`` if the
    guard refuses it; checked again at each delivery); "" when none is given."""
    if not url:
        return ""
    try:
        url_check(url)
    except UrlRefused as exc:
        raise ValidationFailed("The webhook_url was refused", details={"webhook_url": [exc.message]}) from exc
    return url


def endpoint_create(
    *, url: str, events: list[str], secret: str | None = None, description: str = "", created_by=None
) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url=endpoint_url_validate(url),
        events=_valid_events(events),
        secret=endpoint_secret_or_new(secret),
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
        endpoint.url = endpoint_url_validate(url)
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


def _rotate(holder, *, secret: str | None, now: datetime) -> None:
    holder.previous_secret = holder.secret
    holder.previous_secret_expires_at = now + timedelta(hours=settings.ATELIER_WEBHOOK_SECRET_ROTATION_HOURS)
    holder.secret = endpoint_secret_or_new(secret)


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, secret: str | None = None) -> WebhookEndpoint:
    """A new secret signs from now on; the old one signs too for 24 hours (two signatures)."""
    _rotate(endpoint, secret=secret, now=timezone.now())
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return endpoint


def user_webhook_secret(*, user) -> UserWebhookSecret:
    """The user's secret for per-request ``webhook_url``s, made on first use."""
    holder = UserWebhookSecret.objects.filter(user=user).first()
    if holder is None:
        holder, _ = UserWebhookSecret.objects.get_or_create(user=user, defaults={"secret": secret_new()})
    return holder


def user_webhook_secret_rotate(*, user) -> UserWebhookSecret:
    holder = user_webhook_secret(user=user)
    now = timezone.now()
    _rotate(holder, secret=None, now=now)
    holder.rotated_at = now
    holder.save()
    return holder


def _signing_secrets(holder, *, now: datetime) -> list[str]:
    keys = [holder.secret]
    if holder.previous_secret and holder.previous_secret_expires_at and holder.previous_secret_expires_at > now:
        keys.append(holder.previous_secret)
    return keys


def _message_create(*, event: str, data: dict) -> WebhookMessage:
    # The id must not contain "." (it is part of the signed content's separators).
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = json.dumps(
        {"type": event, "timestamp": timezone.now().isoformat().replace("+00:00", "Z"), "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )
    return WebhookMessage.objects.create(id=msg_id, event=event, body=body)


def _enqueue(delivery_ids: list, *, countdown: float | None = None) -> None:
    # By name: services never import the tasks modules that call them.
    for delivery_id in delivery_ids:
        try:
            task_send("webhooks.deliver", args=[str(delivery_id)], countdown=countdown)
        except Exception:
            # The sweep (webhooks.deliver_due) sends it later: the delivery row is pending.
            logger.warning("Could not enqueue webhook delivery %s", delivery_id, exc_info=True)


def _deliveries_create(*, message: WebhookMessage, targets: list[dict]) -> list[WebhookDelivery]:
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(message=message, next_attempt_at=now, **target) for target in targets]
    )
    transaction.on_commit(partial(_enqueue, [delivery.pk for delivery in deliveries]))
    return deliveries


def webhook_event_emit(*, event: str, payload: dict, extra_targets: list[dict] | None = None) -> WebhookMessage | None:
    """Sends ``event`` to every active endpoint subscribed to it (and to ``extra_targets``:
    ``{"url": …, "user": …}`` for a per-request webhook_url), once the caller's transaction
    commits. None when no one listens. Other apps call this, e.g. training for
    ``training.completed``."""
    if event not in EVENT_NAMES:
        raise ValueError(f"Unknown webhook event {event!r}")
    targets = [
        {"endpoint": endpoint, "url": endpoint.url}
        for endpoint in WebhookEndpoint.objects.filter(is_active=True)
        if endpoint.receives(event)
    ]
    targets += extra_targets or []
    if not targets:
        return None
    message = _message_create(event=event, data=payload)
    _deliveries_create(message=message, targets=targets)
    return message


def webhook_event_emit_safely(*, event: str, payload: dict) -> None:
    """For signal receivers: an event that cannot be recorded must not break what caused it."""
    try:
        with transaction.atomic():
            webhook_event_emit(event=event, payload=payload)
    except Exception:
        logger.warning("Could not emit the %s webhook event", event, exc_info=True)


def endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """ "Send a test event": a ``webhook.test`` message to this endpoint alone, active or not."""
    message = _message_create(
        event="webhook.test", data={"endpoint_id": str(endpoint.pk), "message": "This is a test event from Atelier."}
    )
    return _deliveries_create(message=message, targets=[{"endpoint": endpoint, "url": endpoint.url}])[0]


def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """The same message (same ``webhook-id``, so receivers can dedupe) sent again, as a new delivery."""
    return _deliveries_create(
        message=delivery.message,
        targets=[
            {
                "endpoint": delivery.endpoint,
                "user": delivery.user,
                "url": delivery.endpoint.url if delivery.endpoint_id else delivery.url,
            }
        ],
    )[0]


def _generation_payload(generation) -> dict:
    assets = list(generation.assets.order_by("created_at", "id").values("id", "type", "width", "height", "format"))
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    images = [
        {**asset, "id": str(asset["id"]), "url": f"{base}/api/gallery/{asset['id']}/download"} for asset in assets
    ]
    return {
        "user_id": generation.user_id,
        "user_uuid": str(generation.user.uuid),
        "generation_id": str(generation.pk),
        "image_id": images[0]["id"] if images else None,
        "images": images,
        "prompt": generation.prompt,
        "model": generation.model_id,
        "status": generation.status,
    }


def _generation_completed_emit(*, generation_id) -> None:
    from generation.models import Generation

    generation = Generation.objects.select_related("user").filter(pk=generation_id).first()
    if generation is None:
        return
    url = getattr(generation, "webhook_url", "")
    extra = [{"url": url, "user": generation.user}] if url else []
    webhook_event_emit(event="image.generated", payload=_generation_payload(generation), extra_targets=extra)


def webhook_generation_completed(*, generation) -> None:
    """``image.generated`` for a generation that just completed (to the endpoints and to its own
    ``webhook_url``), sent after the completing transaction commits; never raises."""

    def emit():
        try:
            with transaction.atomic():
                _generation_completed_emit(generation_id=generation.pk)
        except Exception:
            logger.warning("Could not emit image.generated for %s", generation.pk, exc_info=True)

    transaction.on_commit(emit)


def _retry_delay(*, attempts: int, result: AttemptResult) -> float | None:
    """Seconds before the next attempt, or None when the schedule is used up."""
    schedule = settings.ATELIER_WEBHOOK_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1] * (1 + random.uniform(0, settings.ATELIER_WEBHOOK_RETRY_JITTER))
    if result.retry_after is not None:
        delay = max(delay, min(result.retry_after, settings.ATELIER_WEBHOOK_MAX_RETRY_AFTER_SECONDS))
    return delay


def _alert_staff(*, endpoint: WebhookEndpoint) -> None:
    emails = list(
        get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="").values_list("email", flat=True)
    )
    if not emails:
        return
    try:
        send_mail(
            subject=f"Webhook endpoint disabled: {endpoint.url}",
            message=(
                f"The webhook endpoint {endpoint.url} ({endpoint.pk}) was disabled: {endpoint.disabled_reason}.\n"
                "Fix the receiver, then enable it again in the admin or with PATCH /admin/api/webhooks/"
                f'{endpoint.pk} {{"is_active": true}}.'
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=emails,
        )
    except Exception:
        logger.exception("Could not alert staff that webhook endpoint %s was disabled", endpoint.pk)


def _endpoint_disable(*, endpoint_id, reason: str, alert: bool) -> None:
    changed = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).update(
        is_active=False, disabled_reason=reason[:300], disabled_at=timezone.now()
    )
    logger.warning("Webhook endpoint %s disabled: %s", endpoint_id, reason)
    if changed and alert:
        _alert_staff(endpoint=WebhookEndpoint.objects.get(pk=endpoint_id))


def _record_outcome(*, delivery: WebhookDelivery, result: AttemptResult, attempts: int) -> str:
    now = timezone.now()
    endpoint_id = delivery.endpoint_id
    fields = {"attempts": attempts, "last_status_code": result.status_code, "last_error": result.error[:500]}
    if result.ok:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.SUCCEEDED, finished_at=now, next_attempt_at=None, **fields
        )
        if endpoint_id:
            WebhookEndpoint.objects.filter(pk=endpoint_id).update(consecutive_failures=0)
        return Status.SUCCEEDED
    retry = None
    if result.status_code == 410:
        if endpoint_id:
            _endpoint_disable(endpoint_id=endpoint_id, reason="The endpoint answered 410 Gone", alert=False)
    elif not result.refused:
        retry = _retry_delay(attempts=attempts, result=result)
    if endpoint_id and result.status_code != 410:
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(consecutive_failures=F("consecutive_failures") + 1)
        failures = WebhookEndpoint.objects.values_list("consecutive_failures", flat=True).get(pk=endpoint_id)
        if failures >= settings.ATELIER_WEBHOOK_DISABLE_AFTER_FAILURES:
            _endpoint_disable(
                endpoint_id=endpoint_id, reason=f"{failures} delivery attempts in a row failed", alert=True
            )
            retry = None
    if retry is None:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.FAILED, finished_at=now, next_attempt_at=None, **fields
        )
        return Status.FAILED
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + timedelta(seconds=retry), **fields)
    from ops.workers import tasks_run_in_process

    # With a broker the retry is a delayed message; in process the sweep sends it when due.
    if not tasks_run_in_process():
        _enqueue([delivery.pk], countdown=retry)
    return Status.PENDING


def delivery_attempt(*, delivery_id) -> str | None:
    """Makes the next attempt of a pending delivery that is due; its status after, or None when
    there was nothing to do (another worker has it, it is not due, it has finished)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=now + CLAIM_LEASE + timedelta(seconds=settings.ATELIER_WEBHOOK_TIMEOUT_SECONDS)
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("message", "endpoint", "user").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if endpoint is not None and not endpoint.is_active and delivery.message.event != "webhook.test":
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.FAILED, finished_at=now, next_attempt_at=None, last_error="The endpoint is disabled"
        )
        return Status.FAILED
    holder = endpoint if endpoint is not None else user_webhook_secret(user=delivery.user)
    message = delivery.message
    headers = {
        "webhook-id": message.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature_header(
            msg_id=message.id, timestamp=now, body=message.body, secrets=_signing_secrets(holder, now=now)
        ),
    }
    result = post_signed(endpoint.url if endpoint is not None else delivery.url, body=message.body, headers=headers)
    attempts = delivery.attempts + 1
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=attempts,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        response_excerpt=result.excerpt,
        error=result.error[:500],
    )
    return _record_outcome(delivery=delivery, result=result, attempts=attempts)


def deliveries_due(*, limit: int = 500) -> int:
    """Sends the pending deliveries whose time has come (retries, and any message lost)."""
    ids = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    _enqueue(ids)
    return len(ids)
