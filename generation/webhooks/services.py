"""Receiving a provider's webhook, and applying what it says to the generation.

Receiving checks, in this order and before anything changes: the signature (the provider's
scheme, timestamp within the tolerance), that the delivery is for this generation's upstream
job, and that this exact delivery has not been seen (replay). The update itself runs as a task
on the provider's queue, so the web request answers at once and downloads happen on a worker.

Applying goes through the same services as the polls: ``generation_complete`` and
``generation_fail`` move the generation by compare-and-swap, so a webhook and a poll that both
report completion complete it once.
"""

import json
import logging

from django.conf import settings
from django.core.cache import cache

from core.errors import (
    ApplicationError,
    Conflict,
    ErrorType,
    NotFound,
    ProviderTransient,
    ProviderUnavailable,
    ValidationFailed,
    WebhookRejected,
)
from generation import providers
from generation.models import TERMINAL_STATUSES, Generation, Status
from generation.providers.clients.fal import request_id_of
from generation.services.dispatch import provider_webhook_dispatch
from generation.services.lifecycle import generation_complete, generation_fail
from generation.services.running import generation_poll_job, generation_reporter
from generation.webhooks.verification import VERIFIERS

logger = logging.getLogger(__name__)

SEEN_PREFIX = "webhooks:seen:"


def provider_webhook_receive(*, provider: str, generation_id, headers, body: bytes) -> str:
    """Verifies one delivery and queues its update. Returns "queued" or "ignored" (job already over)."""
    verifier = VERIFIERS.get(provider)
    if verifier is None:
        raise NotFound(f"No webhooks for provider '{provider}'")
    replay_key = verifier(headers=headers, body=body)
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ValidationFailed("Webhook body is not JSON") from exc
    if not isinstance(payload, dict):
        raise ValidationFailed("Webhook body is not a JSON object")

    generation = (
        Generation.objects.filter(pk=generation_id, provider=provider)
        .only("pk", "status", "provider_request_id")
        .first()
    )
    if generation is None:
        raise NotFound("Generation not found")
    if not generation.provider_request_id:
        if generation.status in TERMINAL_STATUSES:
            return "ignored"
        # The worker has not saved the upstream id yet; the provider retries, and polls follow anyway.
        raise Conflict("Generation is not waiting for this provider yet")
    if _upstream_id(provider, payload, headers) != _stored_id(provider, generation.provider_request_id):
        raise WebhookRejected("Webhook is not for this generation")

    seen = f"{SEEN_PREFIX}{replay_key}"
    if not cache.add(seen, 1, timeout=settings.ATELIER_WEBHOOK_TOLERANCE_SECONDS * 2 + 60):
        raise WebhookRejected("Webhook was already received")
    if generation.status in TERMINAL_STATUSES:
        return "ignored"
    try:
        provider_webhook_dispatch(provider=provider, generation_id=generation.pk, payload=payload)
    except Exception as exc:
        # Forget the delivery so that the provider's retry is accepted.
        cache.delete(seen)
        logger.exception("Could not queue the %s webhook of generation %s", provider, generation.pk)
        raise ProviderUnavailable("The job queue is unavailable; please retry") from exc
    return "queued"


def _upstream_id(provider: str, payload: dict, headers) -> str:
    if provider == "fal":
        # The request id fal signed (header) must be the one in the body too.
        signed = headers.get("X-Fal-Webhook-Request-Id") or ""
        return signed if payload.get("request_id") == signed else ""
    return str(payload.get("id") or "")


def _stored_id(provider: str, request_ref: str) -> str:
    if provider == "fal":
        return request_id_of(request_ref)
    return request_ref


def provider_webhook_apply(*, generation_id, payload: dict) -> None:
    """Applies a verified delivery: progress and logs, or the outputs, or the failure."""
    generation = Generation.objects.select_related("model", "user").filter(pk=generation_id).first()
    if generation is None or generation.status != Status.PROCESSING:
        return
    try:
        provider = providers.get(generation.provider)
        submission = provider.webhook_update(
            payload,
            request_id=generation.provider_request_id,
            job=generation_poll_job(generation),
            reporter=generation_reporter(generation.pk),
        )
        if submission.finished:
            generation_complete(generation=generation, outputs=submission.outputs)
    except ProviderTransient as exc:
        # The scheduled polls are still running and will pick the result up.
        logger.info("Transient error applying the webhook of %s: %s", generation_id, exc.message)
    except ApplicationError as exc:
        generation_fail(generation_id=generation.pk, message=exc.message, error_type=exc.type, details=exc.details)
    except Exception as exc:  # noqa: BLE001 - a webhook must never leave a job half-done without a trace
        logger.exception("Applying the webhook of generation %s failed", generation_id)
        generation_fail(
            generation_id=generation.pk,
            message=f"The provider failed to generate the image: {exc}",
            error_type=ErrorType.PROVIDER_ERROR,
        )
