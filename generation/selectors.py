import time

from django.db.models import Prefetch, Q, QuerySet, Subquery

from core.db import connection_release
from gallery.models import Asset
from generation.models import TERMINAL_STATUSES, DailyGenerationCount, Generation, GenerationEvent, Status
from generation.previews_cache import LatestPreview, preview_cache_get
from teams.selectors import space_listed_q, space_visible_q


def _with_assets(queryset: QuerySet[Generation]) -> QuerySet[Generation]:
    return queryset.select_related("model").prefetch_related(
        Prefetch("assets", queryset=Asset.objects.order_by("created_at", "id"))
    )


def generation_list(*, user, status: str | None = None, team=None) -> QuerySet[Generation]:
    """The user's personal generations, or with ``team`` the team's (every member's)."""
    queryset = Generation.objects.filter(space_listed_q(user=user, team=team))
    if status:
        queryset = queryset.filter(status=status)
    return _with_assets(queryset).order_by("-created_at", "-id")


def generation_get(*, user, generation_id, key_team=None) -> Generation | None:
    """One of the user's generations, or of a team they belong to (``key_team``: a team key's
    team, and only its generations); None for anyone else's."""
    visible = space_visible_q(user=user, key_team=key_team)
    return _with_assets(Generation.objects.filter(visible, pk=generation_id)).first()


def generation_count_on(*, user, day) -> int:
    """The generations the user started on ``day`` (UTC)."""
    return DailyGenerationCount.objects.filter(user=user, day=day).values_list("count", flat=True).first() or 0


def generation_queue_position(*, generation: Generation) -> int | None:
    """How many jobs are ahead of this one in its provider's queue (0 = next), while queued."""
    if generation.status == Status.PROCESSING:
        # Claimed by a worker but waiting in a hosted provider's own queue: the position it reports.
        return generation.queue_position
    if generation.status != Status.IN_QUEUE or generation.queued_at is None:
        return None
    return Generation.objects.filter(
        Q(queued_at__lt=generation.queued_at) | Q(queued_at=generation.queued_at, pk__lt=generation.pk),
        provider=generation.provider,
        status=Status.IN_QUEUE,
    ).count()


def generation_queue_waiting(*, generation_id, limit: int) -> tuple[str | None, list]:
    """The provider whose queue ``generation_id`` is (or was) in, and the ids of the first
    ``limit`` jobs waiting in it, next first (the order ``generation_queue_position`` counts in):
    one query. The provider is None when nobody waits."""
    provider = Generation.objects.filter(pk=generation_id).values("provider")[:1]
    rows = list(
        Generation.objects.filter(status=Status.IN_QUEUE, provider=Subquery(provider), queued_at__isnull=False)
        .order_by("queued_at", "pk")
        .values_list("pk", "provider")[:limit]
    )
    return (rows[0][1] if rows else None), [pk for pk, _ in rows]


def generation_wait(*, user, generation_id, timeout: float, interval: float = 0.1) -> Generation | None:
    """Re-reads the generation until it ends or ``timeout`` passes. Holds no transaction, and no
    pooled database connection between its reads."""
    deadline = time.monotonic() + timeout
    while True:
        generation = generation_get(user=user, generation_id=generation_id)
        if generation is None or generation.status in TERMINAL_STATUSES or time.monotonic() >= deadline:
            return generation
        connection_release()
        time.sleep(min(interval, max(deadline - time.monotonic(), 0)))


def generation_events_after(*, generation_id, after_id: int) -> list[GenerationEvent]:
    return list(GenerationEvent.objects.filter(generation_id=generation_id, pk__gt=after_id).order_by("pk"))


def generation_latest_preview(generation_id) -> LatestPreview | None:
    """The newest in-progress picture of the generation (WebP bytes, content type, width,
    height, step, total_steps, index), or None when it has none. Reads the shared cache only:
    the caller checks who may see it, and whether the job still runs."""
    return preview_cache_get(generation_id=generation_id)


def generation_running_preview(*, user, generation_id) -> LatestPreview | None:
    """The latest preview of one of ``user``'s generations while it runs; None for another's,
    for a finished one, or before its first preview."""
    if not Generation.objects.filter(user=user, pk=generation_id, status=Status.PROCESSING).exists():
        return None
    return preview_cache_get(generation_id=generation_id)
