"""Server-sent events for one generation: its status, queue position, progress and log lines.

The job kernel's stream (``core.jobs.stream``) pushes its stored events and reads the database
only when it opens, resumes or resyncs; an idle stream costs no query. A generation's stream
also follows its provider's queue, whose movers publish the positions of the waiting jobs once
per move (``generation.events_bus``): it takes its own from the message, is not woken by a
message that does not name its job, and sends its position at most every
QUEUE_POSITION_MIN_INTERVAL (the newest), so that a fast queue does not keep the event loop from
other events. When it opens it reads its position too: no stream reads on another's behalf, so
none waits behind another's reads. Queue positions are computed, not stored, and sent without
an id.

In-progress pictures (``preview`` messages, generation/previews.py) are not stored either. A
stream holds at most one that it has not sent, the newest: a watcher that reads slowly skips
pictures instead of queueing them. They go out before the events that woke the stream with
them, in the order of their index, never after the terminal event; a stream that opens while
the job runs starts with the latest one.
"""

import threading
import time
from collections.abc import AsyncIterator, Iterator

from django.conf import settings

from core import jobs, pubsub
from generation.events_bus import queue_channel
from generation.models import TERMINAL_STATUSES, Generation, Status
from generation.previews_cache import preview_frame_data
from generation.selectors import generation_latest_preview, generation_queue_position
from generation.state import GENERATION_JOBS

HEARTBEAT_SECONDS = 15.0
# A stream sends its queue position at most this often (the newest one): a queue that drains
# fast moves many times a second, and a thousand streams woken at each move would keep the
# event loop from the events that matter more, such as the end of a job.
QUEUE_POSITION_MIN_INTERVAL = 0.5


class _Feed(jobs.Feed):
    """A generation's feed: the kernel's, and its place in its queue."""

    latest_only = frozenset({"queue_position"})

    def __init__(self, *, generation_id, last_event_id: int):
        super().__init__(GENERATION_JOBS, job_id=generation_id, last_event_id=last_event_id)
        self.key = str(generation_id)
        self.position: int | None = -1
        # The newest position in the job's queue, read or pushed, while it waits. A queue only
        # moves forward, so a pushed position above it is older: one computed before this
        # stream read the database, or by a mover whose message overtook another's.
        self.queue_ceiling: int | None = None
        self.position_sent_at = float("-inf")
        # The newest positions message that named the job while the stream was pacing its
        # positions, held here by the thread that delivers messages (with how many messages
        # it had queued for the stream before it), and taken by the stream once due. Counting
        # the messages tells whether the held one came before or after a change of status.
        self._held: tuple[int, dict] | None = None
        self._held_lock = threading.Lock()
        self._delivered = 0
        self._consumed = 0
        self._status_seq = 0
        # The newest preview not sent yet (its event's data), and the index of the last one sent.
        self._preview: dict | None = None
        self.preview_index = -1

    def accepts(self, message: dict) -> bool:
        """Which messages wake the stream: of a queue's positions, only those that name its job,
        and not within QUEUE_POSITION_MIN_INTERVAL of its last position (that message is held
        until then, replacing an older one). Runs in the delivering thread."""
        if "preview" in message:
            return self._hold_preview(message["preview"])
        positions = message.get("positions")
        if positions is not None and self.key not in positions:
            return False
        with self._held_lock:
            if positions is not None and self.subscription is not None:
                if time.monotonic() < self.position_sent_at + QUEUE_POSITION_MIN_INTERVAL:
                    if self._held is None:
                        # The stream waits as long as it had nothing held: it must wait less.
                        self.subscription.wake()
                        self._delivered += 1
                    self._held = (self._delivered, message)
                    return False
                self._held = None  # older than this one
            self._delivered += 1
        return True

    def _hold_preview(self, preview: dict) -> bool:
        """Keeps the newest preview in the stream's one slot (replacing one not sent yet) and
        wakes the stream when the slot was empty. Runs in the delivering thread."""
        with self._held_lock:
            empty = self._preview is None
            self._preview = preview
            if empty and self.subscription is not None:
                self.subscription.wake()
                self._delivered += 1
        return False

    def _take_preview(self) -> list[str]:
        with self._held_lock:
            preview, self._preview = self._preview, None
        return self._preview_frames(preview)

    def _preview_frames(self, preview: dict | None) -> list[str]:
        if preview is None or self.done or self.status in TERMINAL_STATUSES:
            return []
        if preview.get("index", 0) <= self.preview_index:
            return []  # sent already (the latest, read when the stream opened)
        self.preview_index = preview.get("index", 0)
        return [jobs.frame(event="preview", data=preview)]

    def receive(self, messages: list[dict], *, skipped: int = 0) -> list[str]:
        # The held preview first: it came before the terminal event that may be among the messages.
        return self._take_preview() + super().receive(messages, skipped=skipped)

    def consumed(self, count: int) -> None:
        self._consumed += count

    def due(self) -> list[str]:
        """The held position, once due."""
        return self.apply(self._take_held())

    def wake_at(self) -> float:
        if self._held is not None:
            return self.position_sent_at + QUEUE_POSITION_MIN_INTERVAL
        return float("inf")

    def _take_held(self) -> dict:
        if self._held is None or time.monotonic() < self.position_sent_at + QUEUE_POSITION_MIN_INTERVAL:
            return {}
        with self._held_lock:
            if self._held is None or self._held[0] > self._consumed:
                return {}  # a message queued before it is still to be read
            (after, message), self._held = self._held, None
        # Held before the job's status changed (it was claimed, or sent back to its queue): out of date.
        return message if after >= self._status_seq else {}

    def follow(self, job: Generation, subscription: pubsub.Subscription) -> None:
        # Follows the job's queue before its position is read: no later move goes unheard.
        subscription.subscribe(queue_channel(job.provider))

    def opened(self, job: Generation) -> list[str]:
        position = generation_queue_position(generation=job)
        if job.status == Status.IN_QUEUE:
            self.queue_ceiling = position
        frames = self._position_frames(position)
        if job.status == Status.PROCESSING:
            latest = generation_latest_preview(job.pk)
            if latest is not None:
                frames += self._preview_frames(preview_frame_data(latest))
        return frames

    def apply_other(self, message: dict) -> list[str]:
        if "positions" in message:
            return self._pushed_position(message["positions"].get(self.key))
        if "queue_position" in message:
            return self._position_frames(message["queue_position"])
        return []

    def on_status(self, status: str) -> None:
        self._status_seq = self._consumed
        if status == Status.IN_QUEUE:
            # Back in its queue (a retry): its place is at the end, behind the ceiling.
            self.queue_ceiling = None

    def _pushed_position(self, position: int | None) -> list[str]:
        if position is None or self.status != Status.IN_QUEUE:
            return []
        if self.queue_ceiling is not None and position > self.queue_ceiling:
            return []
        self.queue_ceiling = position
        return self._position_frames(position)

    def _position_frames(self, position: int | None) -> list[str]:
        if position is None or position == self.position:
            return []
        self.position = position
        self.position_sent_at = time.monotonic()
        return [jobs.frame(event="queue_position", data={"queue_position": position})]


def generation_event_stream(*, generation_id, last_event_id: int = 0) -> Iterator[str]:
    """The stream for a WSGI server: it holds its thread, blocked on the subscription."""
    return jobs.event_stream(
        _Feed(generation_id=generation_id, last_event_id=last_event_id),
        heartbeat_seconds=HEARTBEAT_SECONDS,
        max_seconds=settings.ATELIER_EVENT_STREAM_MAX_SECONDS,
    )


def generation_event_stream_async(*, generation_id, last_event_id: int = 0) -> AsyncIterator[str]:
    """The stream for an ASGI server: it waits on the event loop and holds no thread."""
    return jobs.event_stream_async(
        _Feed(generation_id=generation_id, last_event_id=last_event_id),
        heartbeat_seconds=HEARTBEAT_SECONDS,
        max_seconds=settings.ATELIER_EVENT_STREAM_MAX_SECONDS,
    )
