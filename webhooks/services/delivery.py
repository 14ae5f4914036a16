"""The delivery engine: claim a due delivery, send it signed, write its outcome, schedule the retry.

A worker claims a pending delivery that is due by compare-and-swap, writing a fresh claim token
and pushing ``next_attempt_at`` out by a lease; the sweep (``deliveries_due``) hands a delivery
whose lease has run out to another worker. Every outcome (delivered, failed, retry scheduled) is
written only where the row still carries the worker's token, and clears it: a worker that lost
its claim while its request was on the wire writes nothing, and the other worker's outcome
stands. A failed attempt is retried on the Standard Webhooks schedule with jitter
(``Retry-After`` wins when it asks for longer); 410 Gone disables the endpoint; an endpoint
failing too many attempts in a row is disabled and staff are told by email.
"""

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.task_messages import task_send, tasks_run_in_process
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from webhooks.services.secrets import signing_secrets, user_webhook_secret
from webhooks.signing import signature_header
from webhooks.transport import AttemptResult, post_signed

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
# How long a worker holds a delivery it claimed before the sweep may hand it to another.
CLAIM_LEASE = timedelta(seconds=120)


def deliveries_enqueue(delivery_ids: list, *, countdown: float | None = None) -> None:
    """A ``webhooks.deliver`` message per delivery. By name: services never import the tasks
    modules that call them."""
    for delivery_id in delivery_ids:
        try:
            task_send("webhooks.deliver", args=[str(delivery_id)], countdown=countdown)
        except Exception:
            # The sweep (webhooks.deliver_due) sends it later: the delivery row is pending.
            logger.warning("Could not enqueue webhook delivery %s", delivery_id, exc_info=True)


def _claim(*, delivery_id, now: datetime) -> uuid.UUID | None:
    """The token of a fresh claim on a pending delivery that is due, or None when it is not due,
    finished, or another worker holds it."""
    token = uuid.uuid4()
    lease_end = now + CLAIM_LEASE + timedelta(seconds=settings.ATELIER_WEBHOOK_TIMEOUT_SECONDS)
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now).update(
        claim_token=token, next_attempt_at=lease_end
    )
    return token if claimed else None


def _held(*, delivery_id, claim: uuid.UUID):
    """The delivery while ``claim`` still holds it: the one queryset every outcome writes through."""
    return WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING, claim_token=claim)


def _headers(*, message: WebhookMessage, holder, now: datetime) -> dict[str, str]:
    return {
        "webhook-id": message.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature_header(
            msg_id=message.id, timestamp=now, body=message.body, secrets=signing_secrets(holder=holder, now=now)
        ),
    }


def _retry_delay(*, attempts: int, result: AttemptResult) -> float | None:
    """Seconds before the next attempt, or None when the schedule is used up."""
    schedule = settings.ATELIER_WEBHOOK_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1] * (1 + random.uniform(0, settings.ATELIER_WEBHOOK_RETRY_JITTER))
    if result.retry_after is not None:
        delay = max(delay, min(result.retry_after, settings.ATELIER_WEBHOOK_MAX_RETRY_AFTER_SECONDS))
    return delay


def _alert_staff(*, endpoint_id) -> None:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    emails = list(
        get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="").values_list("email", flat=True)
    )
    if endpoint is None or not emails:
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


def _endpoint_disable(*, endpoint_id, reason: str) -> bool:
    """True when this disabled the endpoint (False: it was disabled already)."""
    changed = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).update(
        is_active=False, disabled_reason=reason[:300], disabled_at=timezone.now()
    )
    return bool(changed)


def _failure_count(*, endpoint_id) -> int:
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(consecutive_failures=F("consecutive_failures") + 1)
    return WebhookEndpoint.objects.values_list("consecutive_failures", flat=True).get(pk=endpoint_id)


@dataclass(frozen=True)
class Outcome:
    status: str
    retry: float | None = None  # seconds until the next attempt, when one is scheduled
    disabled: str = ""  # why this attempt disabled the endpoint
    alert: bool = False  # staff are told of the disabling


def _outcome_record(
    *, delivery: WebhookDelivery, claim: uuid.UUID, result: AttemptResult, now: datetime
) -> Outcome | None:
    """Writes the attempt, the delivery's outcome and the endpoint's failure count in one
    transaction; or nothing at all, and None, when ``claim`` no longer holds the delivery."""
    attempts = delivery.attempts + 1
    endpoint_id = delivery.endpoint_id
    retry, disabled, alert = None, "", False
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=attempts,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            response_excerpt=result.excerpt,
            error=result.error[:500],
        )
        if result.ok:
            if endpoint_id:
                WebhookEndpoint.objects.filter(pk=endpoint_id).update(consecutive_failures=0)
        elif result.status_code == 410:
            reason = "The endpoint answered 410 Gone"
            if endpoint_id and _endpoint_disable(endpoint_id=endpoint_id, reason=reason):
                disabled = reason
        else:
            if not result.refused:
                retry = _retry_delay(attempts=attempts, result=result)
            if endpoint_id:
                failures = _failure_count(endpoint_id=endpoint_id)
                if failures >= settings.ATELIER_WEBHOOK_DISABLE_AFTER_FAILURES:
                    reason = f"{failures} delivery attempts in a row failed"
                    if _endpoint_disable(endpoint_id=endpoint_id, reason=reason):
                        disabled, alert = reason, True
                    retry = None
        if result.ok:
            status, changes = Status.SUCCEEDED, {"finished_at": now, "next_attempt_at": None}
        elif retry is None:
            status, changes = Status.FAILED, {"finished_at": now, "next_attempt_at": None}
        else:
            status, changes = Status.PENDING, {"next_attempt_at": now + timedelta(seconds=retry)}
        written = _held(delivery_id=delivery.pk, claim=claim).update(
            status=status,
            attempts=attempts,
            last_status_code=result.status_code,
            last_error=result.error[:500],
            claim_token=None,
            **changes,
        )
        if not written:
            # The lease ran out and another worker claimed the delivery: its outcome stands, and
            # this attempt counts for nothing, not even against the endpoint.
            transaction.set_rollback(True)
            return None
    return Outcome(status=status, retry=retry, disabled=disabled, alert=alert)


def delivery_attempt(*, delivery_id) -> str | None:
    """Makes the next attempt of a pending delivery that is due; its status after, or None when
    there was nothing to do (another worker has it, it is not due, it has finished) or the claim
    was lost before the outcome could be written."""
    now = timezone.now()
    claim = _claim(delivery_id=delivery_id, now=now)
    if claim is None:
        return None
    delivery = WebhookDelivery.objects.select_related("message", "endpoint", "user").filter(pk=delivery_id).first()
    if delivery is None:
        return None  # deleted with its endpoint since the claim
    endpoint = delivery.endpoint
    if endpoint is not None and not endpoint.is_active and delivery.message.event != "webhook.test":
        written = _held(delivery_id=delivery.pk, claim=claim).update(
            status=Status.FAILED,
            finished_at=now,
            next_attempt_at=None,
            last_error="The endpoint is disabled",
            claim_token=None,
        )
        return Status.FAILED if written else None
    holder = endpoint if endpoint is not None else user_webhook_secret(user=delivery.user)
    result = post_signed(
        endpoint.url if endpoint is not None else delivery.url,
        body=delivery.message.body,
        headers=_headers(message=delivery.message, holder=holder, now=now),
    )
    outcome = _outcome_record(delivery=delivery, claim=claim, result=result, now=timezone.now())
    if outcome is None:
        logger.warning(
            "Webhook delivery %s: the claim ran out during the attempt (answer %s); the worker that "
            "claimed it since writes the outcome",
            delivery.pk,
            result.status_code or result.error,
        )
        return None
    if outcome.disabled:
        logger.warning("Webhook endpoint %s disabled: %s", delivery.endpoint_id, outcome.disabled)
        if outcome.alert:
            _alert_staff(endpoint_id=delivery.endpoint_id)
    # With a broker the retry is a delayed message; in process the sweep sends it when due.
    if outcome.retry is not None and not tasks_run_in_process():
        deliveries_enqueue([delivery.pk], countdown=outcome.retry)
    return outcome.status


def deliveries_due(*, limit: int = 500) -> int:
    """Sends the pending deliveries whose time has come (retries, expired claims, any message lost)."""
    ids = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    deliveries_enqueue(ids)
    return len(ids)
