"""Finds generations that nothing is working on any more and moves them on.

Run periodically by Celery beat. Nothing stays non-terminal for ever:
- ``in_queue`` whose message was sent long ago: the message was lost, or the process died
  between the commit and the send → send it again (the claim is a compare-and-swap, so a
  duplicate message is harmless). Generations are created straight into ``in_queue``.
- ``processing`` inline past the provider's hard time limit: its worker died → re-queue, or
  fail with a refund once the attempts are used up.
- ``processing`` at a hosted provider past the upstream deadline → cancel upstream, fail, refund.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.errors import ErrorType
from generation.models import Generation, Status
from generation.services.dispatch import generation_dispatch, provider_time_limits
from generation.services.events import generation_record_log
from generation.services.lifecycle import generation_cancel_upstream, generation_fail
from generation.state import transition

logger = logging.getLogger(__name__)


def generation_recover_stuck(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    counts = {"redispatched": 0, "requeued": 0, "failed": 0}
    grace = timedelta(seconds=settings.ATELIER_RECOVERY_GRACE_SECONDS)

    redispatch_before = now - timedelta(seconds=settings.ATELIER_REDISPATCH_AFTER_SECONDS)
    for generation_id in Generation.objects.filter(
        status=Status.IN_QUEUE, dispatched_at__lt=redispatch_before
    ).values_list("pk", flat=True):
        generation_dispatch(generation_id=generation_id)
        counts["redispatched"] += 1

    for generation in Generation.objects.filter(status=Status.PROCESSING).only(
        "pk", "provider", "started_at", "provider_request_id", "attempts"
    ):
        if generation.provider_request_id:
            deadline = generation.started_at + timedelta(seconds=settings.ATELIER_UPSTREAM_DEADLINE_SECONDS)
            if now > deadline:
                generation_cancel_upstream(provider_name=generation.provider, request_id=generation.provider_request_id)
                if generation_fail(
                    generation_id=generation.pk,
                    message="The provider did not answer in time; your credits were refunded.",
                    error_type=ErrorType.PROVIDER_UNAVAILABLE,
                ):
                    counts["failed"] += 1
            continue
        deadline = generation.started_at + timedelta(seconds=provider_time_limits(generation.provider)["hard"]) + grace
        if now <= deadline:
            continue
        if generation.attempts >= settings.ATELIER_MAX_ATTEMPTS:
            if generation_fail(
                generation_id=generation.pk,
                message=f"The worker stopped {generation.attempts} times; your credits were refunded.",
                error_type=ErrorType.SERVER_ERROR,
            ):
                counts["failed"] += 1
        elif transition(generation_id=generation.pk, to=Status.IN_QUEUE):
            generation_record_log(generation_id=generation.pk, message="Worker lost; re-queued")
            generation_dispatch(generation_id=generation.pk)
            counts["requeued"] += 1

    if any(counts.values()):
        logger.warning("Recovered stuck generations: %s", counts)
    return counts
