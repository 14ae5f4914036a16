"""Idempotency keys as Stripe defines them.

The first request with a key stores its answer; a retry with the same key and the same body
gets that answer again (nothing is created or charged twice); the same key with a different
body is a 409. Concurrent duplicates wait for the first to finish. Keys are forgotten after
24 hours.
"""

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from generation.models import IdempotencyRecord
from ops.errors import ApplicationError, Conflict, IdempotencyConflict

WAIT_FOR_FIRST_SECONDS = 30.0
WAIT_STEP_SECONDS = 0.05


def request_fingerprint(*, method: str, path: str, body) -> str:
    canonical = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()


def _expiry_cutoff():
    return timezone.now() - timedelta(hours=settings.ATELIER_IDEMPOTENCY_TTL_HOURS)


def _claim(*, user, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    """Returns (record, True) when this request is the first with the key."""
    IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=_expiry_cutoff()).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(user=user, key=key, fingerprint=fingerprint), True
    except IntegrityError:
        return IdempotencyRecord.objects.get(user=user, key=key), False


def idempotent_call(*, user, key: str, fingerprint: str, produce: Callable[[], tuple[int, dict]]) -> tuple[int, dict]:
    """Runs ``produce`` once per (user, key) and returns its (status, body), or the stored one."""
    record, first = _claim(user=user, key=key, fingerprint=fingerprint)
    if not first:
        if record.fingerprint != fingerprint:
            raise IdempotencyConflict(details="Use a new Idempotency-Key for a different request.")
        return _replay(record)

    try:
        status, body = produce()
    except ApplicationError as exc:
        # A refusal is an answer too (Stripe replays errors): store it as the envelope.
        from ops.exception_handler import envelope_exception_handler

        response = envelope_exception_handler(exc, {})
        status, body = response.status_code, response.data
    except BaseException:
        # An unexpected failure is not an answer: forget the key so the client may retry.
        record.delete()
        raise
    IdempotencyRecord.objects.filter(pk=record.pk).update(response_status=status, response_body=body)
    return status, body


def _replay(record: IdempotencyRecord) -> tuple[int, dict]:
    deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
    while not record.is_complete:
        if time.monotonic() > deadline:
            raise Conflict("A request with this Idempotency-Key is still in progress; retry later.")
        time.sleep(WAIT_STEP_SECONDS)
        record = IdempotencyRecord.objects.filter(pk=record.pk).first()
        if record is None:
            raise Conflict("The first request with this Idempotency-Key failed; retry it.")
    return record.response_status, record.response_body


def idempotency_expire() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=_expiry_cutoff()).delete()
    return deleted
