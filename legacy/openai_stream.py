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
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import StreamingHttpResponse
from PIL import Image

from core import pubsub
from core.errors import ApplicationError, ProviderUnavailable
from core.jobs import release_database_connections
from core.request_context import served_by_asgi
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
        end_user=data.get("user") or "",
    )
    quality = data.get("quality") if data.get("quality") in EVENT_QUALITIES else "auto"
    follower = _Follower(
        user=request.user,
        generation_id=submitted.generation.pk,
        partial_images=data.get("partial_images") or 0,
        kind=kind,
        described={"background": data.get("background") or "auto", "quality": quality},
        error_body=error_body,
    )
    if served_by_asgi(request):
        # As the live events do (generation.event_views): the stream waits on the event loop and
        # reads through its thread pool; the request's thread keeps no connection.
        release_database_connections()
        stream = _events_async(follower)
    else:
        stream = _events(follower)
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


class _Follower:
    """What one stream has sent and sends next; both drivers (WSGI and ASGI) share it. Its
    methods read the database or decode images: the ASGI driver runs them in the thread pool."""

    def __init__(self, *, user, generation_id, partial_images: int, kind: str, described: dict, error_body):
        self.user = user
        self.generation_id = generation_id
        self.partial_images = partial_images
        self.kind = kind
        self.described = described
        self.error_body = error_body
        self.deadline = time.monotonic() + settings.ATELIER_SYNC_TIMEOUT_SECONDS
        self.sent = 0
        self.last_index = -1
        self.generation: Generation | None = None
        self.next_check = 0.0
        self.done = False

    def channel(self) -> str:
        return generation_channel(self.generation_id)

    def open(self) -> list[str]:
        """Once subscribed: the row, and the newest preview published before the stream opened."""
        self._read()
        latest = generation_latest_preview(self.generation_id) if self.partial_images else None
        return self._step([(latest.index, latest.data)] if latest is not None else [], ended=False)

    def receive(self, messages: list[dict]) -> list[str]:
        return self._step(_previews_in(messages), ended=_ended(messages))

    def wait_seconds(self) -> float:
        return max(min(self.next_check, self.deadline) - time.monotonic(), 0.0)

    def _read(self) -> None:
        self.generation = generation_get(user=self.user, generation_id=self.generation_id)
        self.next_check = time.monotonic() + STATUS_CHECK_SECONDS

    def _step(self, previews: list[tuple[int, bytes]], *, ended: bool) -> list[str]:
        frames = []
        if ended or time.monotonic() >= self.next_check:
            self._read()
        if self.generation.status in TERMINAL_STATUSES:
            self.done = True
            return frames + self._finish()
        for index, data in previews:
            if self.sent >= self.partial_images or index <= self.last_index:
                continue
            encoded = _encoded(data, self.generation.output_format)
            if encoded is not None:
                self.last_index = index
                frame = _partial(self.generation, encoded, self.sent, self.kind, self.described)
                frames.append(_frame(f"{self.kind}.partial_image", frame))
                self.sent += 1
        if time.monotonic() >= self.deadline:
            self.done = True
            details = f"Generation {self.generation_id} is still running: GET /api/generate/{self.generation_id}."
            frames.append(_error_frame(ProviderUnavailable("The images were not ready in time", details=details), self))
        return frames

    def _finish(self) -> list[str]:
        generation = self.generation
        if generation.status != Status.COMPLETED:
            return [_error_frame(generation_failure(generation), self)]
        frames = []
        for asset in generation.assets.all():
            with asset.file.open("rb") as handle:
                encoded = base64.b64encode(handle.read()).decode()
            completed = _completed(generation, asset, encoded, self.kind, self.described)
            frames.append(_frame(f"{self.kind}.completed", completed))
        return frames


# A comment (which clients skip) sends the headers at once: the client knows the job is on.
OPENED = ": generating\n\n"


def _events(follower: _Follower) -> Iterator[str]:
    """The stream for a WSGI server: it holds its thread, blocked on the subscription."""
    with pubsub.subscribe(follower.channel()) as subscription:
        yield OPENED
        yield from follower.open()
        while not follower.done:
            message = subscription.get_blocking(follower.wait_seconds())
            messages = [message, *subscription.pending()] if message is not None else []
            yield from follower.receive(messages)


def _in_pool(call):
    """A call on the loop's thread pool, where no request cycle manages the connection."""

    def run(*args):
        close_old_connections()
        try:
            return call(*args)
        finally:
            close_old_connections()

    return sync_to_async(run, thread_sensitive=False)


async def _events_async(follower: _Follower) -> AsyncIterator[str]:
    """The stream for an ASGI server: it waits on the event loop and holds no thread."""
    with pubsub.subscribe(follower.channel()) as subscription:
        yield OPENED
        for frame in await _in_pool(follower.open)():
            yield frame
        while not follower.done:
            message = await subscription.get(follower.wait_seconds())
            messages = [message, *subscription.pending()] if message is not None else []
            for frame in await _in_pool(follower.receive)(messages):
                yield frame


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


def _error_frame(exc: ApplicationError, follower: _Follower) -> str:
    return _frame("error", {"type": "error", **follower.error_body(exc)})
