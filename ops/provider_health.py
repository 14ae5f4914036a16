"""Provider health as measured: each call's latency and outcome, kept in per-minute buckets.

Each call to a provider arrives as generation's ``provider_call_finished`` signal
(generation/provider_calls.py) and is counted by ``provider_call_record``;
``provider_health`` reads a window of buckets back as calls, success rate and p50/p95.
"""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Sum
from django.db.models.functions import Greatest
from django.utils import timezone

from ops.models import LATENCY_BOUNDS_MS, LATENCY_FIELDS, ProviderCallBucket

logger = logging.getLogger(__name__)


def _latency_field(duration_ms: int) -> str:
    for bound, field in zip(LATENCY_BOUNDS_MS, LATENCY_FIELDS, strict=False):
        if duration_ms <= bound:
            return field
    return LATENCY_FIELDS[-1]


def provider_call_record(*, provider: str, duration_ms: int, ok: bool, at: datetime | None = None) -> None:
    """Adds one call to its provider's bucket for the minute: one UPDATE, an INSERT the first time."""
    minute = (at or timezone.now()).replace(second=0, microsecond=0)
    duration_ms = max(0, int(duration_ms))
    field = _latency_field(duration_ms)
    rows = ProviderCallBucket.objects.filter(provider=provider, minute=minute)
    updates = {
        "calls": F("calls") + 1,
        "failures": F("failures") + (0 if ok else 1),
        "total_ms": F("total_ms") + duration_ms,
        "max_ms": Greatest(F("max_ms"), duration_ms),
        field: F(field) + 1,
    }
    if rows.update(**updates):
        return
    try:
        with transaction.atomic():
            ProviderCallBucket.objects.create(
                provider=provider,
                minute=minute,
                calls=1,
                failures=0 if ok else 1,
                total_ms=duration_ms,
                max_ms=duration_ms,
                **{field: 1},
            )
    except IntegrityError:
        rows.update(**updates)  # another process created the minute's row first


def provider_call_finished_record(*, provider: str, duration_ms: int, ok: bool, **kwargs) -> None:
    """Receives generation's ``provider_call_finished`` signal (connected in ops/apps.py)."""
    provider_call_record(provider=provider, duration_ms=duration_ms, ok=ok)


def _percentile(counts: list[int], max_ms: int, fraction: float) -> float | None:
    """The latency under which ``fraction`` of calls fell, interpolated inside its bucket."""
    total = sum(counts)
    if not total:
        return None
    target = total * fraction
    seen = 0
    lower = 0.0
    for index, count in enumerate(counts):
        upper = float(LATENCY_BOUNDS_MS[index]) if index < len(LATENCY_BOUNDS_MS) else float(max(max_ms, lower))
        if count and seen + count >= target:
            return lower + (upper - lower) * (target - seen) / count
        seen += count
        lower = upper
    return float(max_ms)


def provider_health(*, minutes: int = 60, now: datetime | None = None) -> dict[str, dict]:
    """Per provider over the last ``minutes``: calls, failures, success rate, p50/p95, mean (ms)."""
    since = (now or timezone.now()) - timedelta(minutes=minutes)
    rows = (
        ProviderCallBucket.objects.filter(minute__gte=since)
        .values("provider")
        .annotate(
            n_calls=Sum("calls"),
            n_failures=Sum("failures"),
            sum_ms=Sum("total_ms"),
            **{f"n_{field}": Sum(field) for field in LATENCY_FIELDS},
        )
    )
    # The slowest call needs its own aggregate: Max over the buckets' maxima.
    maxima = dict(
        ProviderCallBucket.objects.filter(minute__gte=since)
        .values("provider")
        .annotate(m=Max("max_ms"))
        .values_list("provider", "m")
    )
    health = {}
    for row in rows:
        calls = row["n_calls"] or 0
        failures = row["n_failures"] or 0
        counts = [row[f"n_{field}"] or 0 for field in LATENCY_FIELDS]
        max_ms = maxima.get(row["provider"]) or 0
        health[row["provider"]] = {
            "calls": calls,
            "failures": failures,
            "success_rate": round(100.0 * (calls - failures) / calls, 1) if calls else None,
            "p50_ms": _rounded(_percentile(counts, max_ms, 0.5)),
            "p95_ms": _rounded(_percentile(counts, max_ms, 0.95)),
            "mean_ms": round(row["sum_ms"] / calls) if calls else None,
            "max_ms": max_ms,
        }
    return health


def _rounded(value: float | None) -> int | None:
    return None if value is None else round(value)
