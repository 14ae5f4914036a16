"""The latest in-progress picture of each running generation, kept in the cache that every
process shares (Redis, or the embedded run's file cache): what ``GET /api/generate/{id}``
links to while the job runs, and what polling clients read instead of the live stream.

Never a stored asset: an entry is dropped when its generation ends (``events_bus``), and lives
at most PREVIEW_TTL_SECONDS after its last frame.
"""

import base64
from dataclasses import asdict, dataclass

from django.core.cache import cache

# Ten minutes after its last frame; a job that runs longer without a frame shows none.
PREVIEW_TTL_SECONDS = 600


@dataclass(frozen=True)
class LatestPreview:
    """One encoded preview image (WebP) and what it shows."""

    data: bytes
    content_type: str
    width: int
    height: int
    step: int | None
    total_steps: int | None
    index: int
    # When it was published (Unix seconds): the throttle of a later run of the same job reads it.
    published_at: float = 0.0


def _key(generation_id) -> str:
    return f"generation:preview:{generation_id}"


def preview_cache_set(*, generation_id, preview: LatestPreview) -> None:
    cache.set(_key(generation_id), asdict(preview), timeout=PREVIEW_TTL_SECONDS)


def preview_cache_get(*, generation_id) -> LatestPreview | None:
    value = cache.get(_key(generation_id))
    if not isinstance(value, dict):
        return None
    try:
        return LatestPreview(**value)
    except TypeError:
        return None  # written by another version of this code


def preview_cache_delete(*, generation_id) -> None:
    cache.delete(_key(generation_id))


def preview_frame_data(preview: LatestPreview) -> dict:
    """The data of a ``preview`` event on the live stream: the image inline, as a data URL."""
    return {
        "index": preview.index,
        "image": f"data:{preview.content_type};base64,{base64.b64encode(preview.data).decode()}",
        "width": preview.width,
        "height": preview.height,
        "step": preview.step,
        "total_steps": preview.total_steps,
    }


# The route ``generation-preview`` (generation/urls.py), spelled out: a worker that publishes a
# preview would otherwise load the whole URLconf for its first one.
PREVIEW_PATH = "/api/generate/{generation_id}/preview"


def preview_path(generation_id, *, index: int) -> str:
    """Where a generation's latest preview is served; the index makes each one a new URL."""
    return f"{PREVIEW_PATH.format(generation_id=generation_id)}?index={index}"
