"""In-progress pictures of a running generation: from the provider's frame to its watchers.

A provider reports a frame through its reporter (``Reporter.preview``: encoded bytes or a
Pillow image). Each generation publishes at most one every ``ATELIER_PREVIEW_MIN_INTERVAL_MS``:
a frame that comes sooner is dropped before it is even decoded, never queued, so the next
one published is the newest. A published frame is scaled to ``ATELIER_PREVIEW_MAX_SIDE`` on
its long side, encoded as WebP and

- pushed on the generation's live stream as a ``preview`` message (``events_bus``), not stored
  as a ``GenerationEvent``: a stream that reconnects does not get old previews back;
- kept as the generation's latest preview in the shared cache (``previews_cache``), which
  ``GET /api/generate/{id}`` links to while the job runs;
- announced with the ``generation_preview`` signal (outbound webhooks).

Previews are never stored as assets and never billed. A request with ``previews: false``
gets none: its provider is not asked for any, and what one reports anyway is dropped here.
"""

import io
import logging
import threading
import time

from django.conf import settings
from PIL import Image

from core import pubsub
from generation.events_bus import generation_channel
from generation.models import Generation
from generation.previews_cache import (
    LatestPreview,
    preview_cache_get,
    preview_cache_set,
    preview_frame_data,
    preview_path,
)
from generation.signals import generation_preview

logger = logging.getLogger(__name__)

CONTENT_TYPE = "image/webp"
# Small and fast: a preview is looked at for half a second.
_WEBP_QUALITY = 70
_WEBP_METHOD = 0


def preview_encode(image, *, max_side: int) -> tuple[bytes, int, int]:
    """A frame (encoded bytes or a Pillow image) as WebP bytes no larger than ``max_side`` on
    its long side, with its width and height."""
    if isinstance(image, bytes | bytearray | memoryview):
        image = Image.open(io.BytesIO(bytes(image)))
        # JPEG decodes straight at a fraction of its size when it is much larger.
        image.draft("RGB", (max_side, max_side))
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    factor = max(image.size) // max_side
    if factor >= 2:
        # A box reduction by a whole factor first: a tenth of the cost of resampling.
        image = image.reduce(factor)
    if max(image.size) > max_side:
        scale = max_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=_WEBP_QUALITY, method=_WEBP_METHOD)
    return buffer.getvalue(), image.width, image.height


class PreviewSink:
    """The ``on_preview`` of one run's reporter: throttles, encodes and publishes the frames of
    one generation. Safe to call from several threads (a provider that reads a websocket)."""

    def __init__(self, generation_id, *, generation: Generation | None = None):
        """``generation``: the row, when the caller has it (saves the sink its one query)."""
        self.generation_id = str(generation_id)
        self._lock = threading.Lock()
        self._loaded = False
        self._facts: dict | None = None
        self._given = generation
        # When the last preview was published (time.time(), shared with other runs of the job
        # through the cache), and the index the next one gets.
        self._last_at: float | None = None
        self._next_index = 0

    def __call__(self, image, *, step: int | None = None, total_steps: int | None = None) -> None:
        with self._lock:
            if not self._load():
                return
            now = time.time()
            interval = settings.ATELIER_PREVIEW_MIN_INTERVAL_MS / 1000
            if self._last_at is not None and now - self._last_at < interval:
                return  # dropped: the next frame after the interval is newer
            try:
                data, width, height = preview_encode(image, max_side=settings.ATELIER_PREVIEW_MAX_SIDE)
            except Exception:  # noqa: BLE001 - a bad frame must never fail the job
                logger.warning("Preview of %s: could not read the frame", self.generation_id, exc_info=True)
                return
            preview = LatestPreview(
                data=data,
                content_type=CONTENT_TYPE,
                width=width,
                height=height,
                step=step,
                total_steps=total_steps,
                index=self._next_index,
                published_at=now,
            )
            self._next_index += 1
            self._last_at = now
            # Under the lock: two threads' previews go out in the order of their indexes.
            self._publish(preview)

    def _load(self) -> bool:
        """Reads, once per run, whether the generation wants previews and what its webhooks
        need, and where the previews of an earlier run of it (an earlier poll) stopped."""
        if not self._loaded:
            self._loaded = True
            generation = self._given
            if generation is None:
                generation = (
                    Generation.objects.filter(pk=self.generation_id)
                    .only("user_id", "team_id", "webhook_url", "webhook_events_filter", "previews")
                    .first()
                )
            self._facts = _facts_of(generation) if generation is not None and generation.previews else None
            if self._facts is not None:
                # Pacing and indexes go on from an earlier run of the job (a poll, a retry).
                try:
                    earlier = preview_cache_get(generation_id=self.generation_id)
                except Exception:  # noqa: BLE001 - the cache is away: this run starts afresh
                    logger.warning("Preview of %s: could not read the cache", self.generation_id, exc_info=True)
                    earlier = None
                if earlier is not None:
                    self._last_at, self._next_index = earlier.published_at, earlier.index + 1
        return self._facts is not None

    def _publish(self, preview: LatestPreview) -> None:
        """Caches, publishes and announces one preview. Whatever fails here (the cache is away, a
        receiver raises) is logged: a preview never fails the job it shows."""
        try:
            # Cached first: a stream that opens meanwhile reads at least this one.
            preview_cache_set(generation_id=self.generation_id, preview=preview)
        except Exception:  # noqa: BLE001 - the live stream still gets it
            logger.warning("Preview of %s: could not cache it", self.generation_id, exc_info=True)
        pubsub.publish(channel=generation_channel(self.generation_id), message={"preview": preview_frame_data(preview)})
        url = preview_path(self.generation_id, index=preview.index)
        # Robust: a receiver that raises is logged by the signal, and the job goes on.
        generation_preview.send_robust(
            sender=Generation,
            generation_id=self.generation_id,
            user_id=self._facts["user_id"],
            team_id=self._facts["team_id"],
            preview={
                "index": preview.index,
                "url": f"{settings.PUBLIC_BASE_URL.rstrip('/')}{url}" if settings.PUBLIC_BASE_URL else url,
                "width": preview.width,
                "height": preview.height,
                "step": preview.step,
                "total_steps": preview.total_steps,
            },
            webhook_url=self._facts["webhook_url"],
            events_filter=self._facts["webhook_events_filter"],
        )


def _facts_of(generation: Generation) -> dict:
    return {
        "user_id": generation.user_id,
        "team_id": str(generation.team_id) if generation.team_id else None,
        "webhook_url": generation.webhook_url,
        "webhook_events_filter": generation.webhook_events_filter,
    }
