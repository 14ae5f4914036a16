"""What provider adapters look up beside the job itself: catalog defaults, the requested
format of a job followed by its upstream id, how soon to poll."""

from django.conf import settings


def poll_after() -> float:
    """With a webhook on its way, polls are only the fallback: rarer."""
    return settings.ATELIER_WEBHOOK_POLL_FALLBACK_SECONDS if settings.PUBLIC_BASE_URL else 0.0


def catalog_defaults(model_id: str) -> dict:
    """The model's default upstream parameters from the catalog, which a request's own override."""
    from catalog.models import AIModel

    return dict(AIModel.objects.filter(pk=model_id).values_list("defaults", flat=True).first() or {})


def requested_format(*, provider: str, request_ref: str) -> str:
    """The image format the generation waiting on this upstream job asked for (png by default)."""
    from generation.models import Generation

    fmt = (
        Generation.objects.filter(provider=provider, provider_request_id=request_ref)
        .values_list("output_format", flat=True)
        .first()
    )
    return fmt or "png"


def unseen(key: str, items: list, *, keep_seconds: int) -> list:
    """The items of a list a provider resends in full each time (its logs) that were not seen
    under ``key`` before; remembers how many were seen for ``keep_seconds``."""
    from django.core.cache import cache

    seen = cache.get(key, 0)
    fresh = items[seen:]
    if fresh:
        cache.set(key, len(items), keep_seconds)
    return fresh
