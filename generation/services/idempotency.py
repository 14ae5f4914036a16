"""Idempotency keys as Stripe defines them, for the requests that create a generation.

The first request with a key creates the generation; a retry with the same key and the same
parameters gets that generation again (nothing is created or charged twice); the same key with
other parameters is a 409. A concurrent duplicate waits for the first. A request that was
refused (quota, credits, a bad image) created nothing, so its key stays free for the retry.
Keys are forgotten after 24 hours.
"""

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, IdempotencyConflict
from generation.models import IdempotencyRecord

WAIT_FOR_FIRST_SECONDS = 30.0
WAIT_STEP_SECONDS = 0.05


def request_fingerprint(*, data: dict) -> str:
    """A hash of the request's parameters; an uploaded file counts by its content."""
    canonical = json.dumps(data, sort_keys=True, default=_file_digest, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _file_digest(value) -> str:
    if not hasattr(value, "chunks"):
        return str(value)
    digest = hashlib.sha256()
    for chunk in value.chunks():
        digest.update(chunk)
    value.seek(0)
    return f"sha256:{digest.hexdigest()}"


def idempotent_create(*, user, key: str, fingerprint: str, create: Callable[[], object]):
    """The id of the generation made under (user, key): made now by ``create``, or earlier."""
    record, first = _claim(user=user, key=key, fingerprint=fingerprint)
    if not first:
        if record.fingerprint != fingerprint:
            raise IdempotencyConflict(details="Use a new Idempotency-Key for a different request.")
        return _generation_of(record)
    try:
        generation_id = create()
    except BaseException:
        # Nothing was created: the key is free again.
        record.delete()
        raise
    IdempotencyRecord.objects.filter(pk=record.pk).update(generation_id=generation_id)
    return generation_id


def _claim(*, user, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    """(record, True) when this request is the first with the key. A claim whose process died
    before it created anything is abandoned after a while and may be taken again."""
    now = timezone.now()
    IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=_expiry_cutoff()).delete()
    IdempotencyRecord.objects.filter(
        user=user, key=key, generation=None, created_at__lt=now - timedelta(seconds=2 * WAIT_FOR_FIRST_SECONDS)
    ).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(user=user, key=key, fingerprint=fingerprint), True
    except IntegrityError:
        return IdempotencyRecord.objects.get(user=user, key=key), False


def _generation_of(record: IdempotencyRecord):
    deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
    while record.generation_id is None:
        if time.monotonic() > deadline:
            raise Conflict("A request with this Idempotency-Key is still in progress; retry later.")
        time.sleep(WAIT_STEP_SECONDS)
        record = IdempotencyRecord.objects.filter(pk=record.pk).first()
        if record is None:
            raise Conflict("The first request with this Idempotency-Key was refused; retry it.")
    return record.generation_id


def _expiry_cutoff():
    return timezone.now() - timedelta(hours=settings.ATELIER_IDEMPOTENCY_TTL_HOURS)


def idempotency_expire() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=_expiry_cutoff()).delete()
    return deleted
