"""``stream: true`` on ``POST /v1/images/generations`` and ``/v1/images/edits``: the answer is
``text/event-stream`` in OpenAI's events, as its SDKs read them (``ImageGenPartialImageEvent``,
``ImageGenCompletedEvent``, ``ImageEditPartialImageEvent``, ``ImageEditCompletedEvent``):

- up to ``partial_images`` (0-3) ``<kind>.partial_image`` events, each the generation's newest
  live preview (in the requested output format) with its ``partial_image_index``, while the job
  runs, on models that show previews; a fast job may end before any;
- one ``<kind>.completed`` event per image, with the image itself as ``b64_json``;
- or, when the job fails, is cancelled or outlasts ``ATELIER_SYNC_TIMEOUT_SECONDS``, one
  ``error`` event in OpenAI's error shape (its credits are refunded, as for any failed job).

The generation is submitted as any other (credits, quotas, rate limits, ``Idempotency-Key``):
a refusal before it exists is an ordinary JSON error with its status. The stream follows the
generation's live channel: its ``preview`` messages are the partial images (the newest one
published before the stream opened is read from the shared cache, ``generation_latest_preview``),
and the row is read when a status event says the job ended (and every few seconds, in case a
message was lost).
"""

import base64
import io
import json
import time
from collections.abc import Iterator

from django.conf import settings
from django.http import StreamingHttpResponse
from PIL import Image

from core import pubsub
from core.errors import ApplicationError, ProviderUnavailable
from generation.events_bus import generation_channel
from generation.models import TERMINAL_STATUSES, Api, Generation, Status
from generation.selectors import generation_get, generation_latest_preview
from generation.serializers import generate_input, idempotency_key_of
from generation.services import generation_failure, generation_submit

# How often it reads the row, in case the message of its end was lost.
STATUS_CHECK_SECONDS = 2.0
# The values OpenAI's events may carry for quality; any other request is "auto".
EVENT_QUALITIES = frozenset({"low", "medium", "high", "auto"})
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def _frame(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _encoded(data: bytes, output_format: str) -> str | None:
    """A preview (WebP) as base64 in the requested format, or None when it cannot be read."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            buffer = io.BytesIO()
            target = _PIL_FORMATS.get(output_format, "PNG")
            (image.convert("RGB") if target == "JPEG" else image).save(buffer, format=target)
    except (OSError, ValueError):
        return None
    return base64.b64encode(buffer.getvalue()).decode()


def _ended(messages: list[dict]) -> bool:
    """Whether the messages say the job ended, or may have been lost (a resync)."""
    for message in messages:
        if message.get("resync"):
            return True
        for event in message.get("events") or ():
            if event.get("type") == "status" and (event.get("data") or {}).get("status") in TERMINAL_STATUSES:
                return True
    return False


def images_stream(request, data: dict, canonical: dict, *, kind: str, error_body) -> StreamingHttpResponse:
    """Submits the generation and answers its events as a stream. ``kind``: ``image_generation``
    or ``image_edit``; ``error_body(exc)``: an error in OpenAI's shape."""
    if not data.get("partial_images"):
        canonical = {**canonical, "previews": False}  # nobody will look at them
    submitted = generation_submit(
        user=request.user,
        data=generate_input(canonical),
        wait=False,
        idempotency_key=idempotency_key_of(request),
        api=Api.OPENAI,
    )
    generation = submitted.generation
    quality = data.get("quality") if data.get("quality") in EVENT_QUALITIES else "auto"
    described = {"background": data.get("background") or "auto", "quality": quality}
    stream = _events(
        user=request.user,
        generation_id=generation.pk,
        partial_images=data.get("partial_images") or 0,
        kind=kind,
        described=described,
        error_body=error_body,
    )
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _previews_in(messages: list[dict]) -> list[tuple[int, bytes]]:
    """The (index, image bytes) of the ``preview`` messages among ``messages``."""
    found = []
    for message in messages:
        preview = message.get("preview")
        if not isinstance(preview, dict) or not isinstance(preview.get("image"), str):
            continue
        try:
            found.append((int(preview["index"]), base64.b64decode(preview["image"].partition(",")[2])))
        except (KeyError, TypeError, ValueError):
            continue
    return found


def _events(*, user, generation_id, partial_images: int, kind: str, described: dict, error_body) -> Iterator[str]:
    deadline = time.monotonic() + settings.ATELIER_SYNC_TIMEOUT_SECONDS
    sent, last_index = 0, -1
    with pubsub.subscribe(generation_channel(generation_id)) as subscription:
        # A comment (which clients skip) sends the headers now: the client knows the job is on.
        yield ": generating\n\n"
        # Read after subscribing: an end or a preview that comes later is heard.
        generation = generation_get(user=user, generation_id=generation_id)
        latest = generation_latest_preview(generation_id) if partial_images else None
        previews = [(latest.index, latest.data)] if latest is not None else []
        next_check = time.monotonic() + STATUS_CHECK_SECONDS
        while generation.status not in TERMINAL_STATUSES:
            for index, data in previews:
                if sent >= partial_images or index <= last_index:
                    continue
                encoded = _encoded(data, generation.output_format)
                if encoded is not None:
                    last_index = index
                    yield _frame(f"{kind}.partial_image", _partial(generation, encoded, sent, kind, described))
                    sent += 1
            now = time.monotonic()
            if now >= deadline:
                yield _error_frame(
                    ProviderUnavailable(
                        "The images were not ready in time",
                        details=f"Generation {generation_id} is still running: GET /api/generate/{generation_id}.",
                    ),
                    error_body,
                )
                return
            message = subscription.get_blocking(min(next_check, deadline) - now)
            messages = [message, *subscription.pending()] if message is not None else []
            previews = _previews_in(messages)
            if _ended(messages) or time.monotonic() >= next_check:
                generation = generation_get(user=user, generation_id=generation_id)
                next_check = time.monotonic() + STATUS_CHECK_SECONDS
    if generation.status != Status.COMPLETED:
        yield _error_frame(generation_failure(generation), error_body)
        return
    for asset in generation.assets.all():
        with asset.file.open("rb") as handle:
            encoded = base64.b64encode(handle.read()).decode()
        yield _frame(f"{kind}.completed", _completed(generation, asset, encoded, kind, described))


def _partial(generation: Generation, encoded: str, index: int, kind: str, described: dict) -> dict:
    return {
        "type": f"{kind}.partial_image",
        "b64_json": encoded,
        "partial_image_index": index,
        "created_at": int(time.time()),
        "size": f"{generation.width}x{generation.height}",
        "output_format": generation.output_format,
        **described,
    }


def _completed(generation: Generation, asset, encoded: str, kind: str, described: dict) -> dict:
    return {
        "type": f"{kind}.completed",
        "b64_json": encoded,
        "created_at": int(time.time()),
        "size": f"{asset.width}x{asset.height}",
        "output_format": generation.output_format,
        # Token counts are GPT Image's; Atelier charges credits (GET /api/generate/{id} says how many).
        "usage": {
            "input_tokens": 0,
            "input_tokens_details": {"image_tokens": 0, "text_tokens": 0},
            "output_tokens": 0,
            "total_tokens": 0,
        },
        **described,
    }


def _error_frame(exc: ApplicationError, error_body) -> str:
    return _frame("error", {"type": "error", **error_body(exc)})
