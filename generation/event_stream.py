"""Server-sent events for one generation: its status, queue position, progress and log lines.

Events are pushed, not polled: every stored event is published when its transaction commits
(``ops.pubsub``), and a stream waits on its subscription. The database is read when the stream
opens (what came before, or after the client's ``Last-Event-ID``), when the messages may have
been lost (the listener reconnected), and for the queue position while the job waits and the
queue moves. An idle stream costs no query; it sends a comment as a heartbeat so proxies keep
the connection. Queue positions are computed, not stored, and sent without an id. The stream
ends after the terminal status.

Two drivers share one ``_Feed``: an async generator for ASGI servers (a stream holds no thread)
and a plain generator for WSGI servers and the development server (a stream holds its thread).
"""

import json
import time
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from generation.events_bus import QUEUE_CHANNEL, generation_channel
from generation.models import TERMINAL_STATUSES, Generation, GenerationEvent, Status
from generation.selectors import generation_events_after, generation_queue_position
from ops import pubsub

HEARTBEAT_SECONDS = 15.0
# Positions are recomputed at most this often while the queue moves (one COUNT per stream).
QUEUE_POSITION_MIN_INTERVAL = 1.0


def _frame(*, event: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class _Feed:
    """What one stream has sent, and what it sends next (the part both drivers share)."""

    def __init__(self, *, generation_id, last_event_id: int):
        self.generation_id = generation_id
        self.resume_after = last_event_id
        self.sent_ids: set[int] = set()
        self.status: str | None = None
        self.position: int | None = -1
        self.position_stale = False
        self.position_read_at = 0.0
        self.done = False

    def catch_up(self) -> list[str]:
        """Reads what the stream has not sent yet from the database."""
        generation = self._generation()
        if generation is None:
            self.done = True
            return []
        # Read the status first: if it is terminal, the events read next include its event.
        events = generation_events_after(generation_id=self.generation_id, after_id=self.resume_after)
        frames = self._send({"id": e.pk, "type": e.type, "data": e.data} for e in events)
        if self.done:
            return frames
        self.status = generation.status
        if generation.status in TERMINAL_STATUSES:
            # Its terminal event was sent before the client's Last-Event-ID.
            self.done = True
            return frames
        return frames + self._position_frames(generation_queue_position(generation=generation))

    def read_position(self) -> list[str]:
        self.position_stale = False
        self.position_read_at = time.monotonic()
        generation = self._generation()
        if generation is None or generation.status != Status.IN_QUEUE:
            return []
        return self._position_frames(generation_queue_position(generation=generation))

    def apply(self, message: dict) -> list[str]:
        """A pushed message (no database read)."""
        if "events" in message:
            return self._send(message["events"])
        if "moved" in message:
            self.position_stale = self.status == Status.IN_QUEUE
        elif "queue_position" in message:
            return self._position_frames(message["queue_position"])
        return []

    def wait_seconds(self, *, deadline: float, last_beat: float) -> float:
        """How long the stream may wait for a message: until its next heartbeat, its end, or
        the next read of its queue position."""
        now = time.monotonic()
        timeout = min(deadline, last_beat + HEARTBEAT_SECONDS) - now
        if self.position_stale:
            timeout = min(timeout, self.position_read_at + QUEUE_POSITION_MIN_INTERVAL - now)
        return max(timeout, 0.0)

    def position_due(self) -> bool:
        return (
            self.position_stale
            and not self.done
            and time.monotonic() >= self.position_read_at + QUEUE_POSITION_MIN_INTERVAL
        )

    def _generation(self) -> Generation | None:
        fields = ("pk", "status", "provider", "queued_at", "queue_position")
        return Generation.objects.only(*fields).filter(pk=self.generation_id).first()

    def _send(self, events) -> list[str]:
        frames = []
        for event in events:
            event_id = event["id"]
            if event_id <= self.resume_after or event_id in self.sent_ids:
                continue
            self.sent_ids.add(event_id)
            frames.append(_frame(event=event["type"], data=event["data"], event_id=event_id))
            if event["type"] == GenerationEvent.Type.STATUS:
                self.status = event["data"].get("status")
                if self.status in TERMINAL_STATUSES:
                    self.done = True
                    break
        return frames

    def _position_frames(self, position: int | None) -> list[str]:
        if position is None or position == self.position:
            return []
        self.position = position
        return [_frame(event="queue_position", data={"queue_position": position})]


def generation_event_stream(*, generation_id, last_event_id: int = 0) -> Iterator[str]:
    """The stream for a WSGI server: it holds its thread, blocked on the subscription."""
    feed = _Feed(generation_id=generation_id, last_event_id=last_event_id)
    deadline = time.monotonic() + settings.ATELIER_EVENT_STREAM_MAX_SECONDS
    with pubsub.subscribe(generation_channel(generation_id), QUEUE_CHANNEL) as subscription:
        yield "retry: 2000\n\n"
        yield from feed.catch_up()
        last_beat = time.monotonic()
        while not feed.done and time.monotonic() < deadline:
            _follow_queue(feed, subscription)
            message = subscription.get_blocking(feed.wait_seconds(deadline=deadline, last_beat=last_beat))
            if message is not None:
                yield from (feed.catch_up() if message.get("resync") else feed.apply(message))
            if feed.position_due():
                yield from feed.read_position()
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"


async def generation_event_stream_async(*, generation_id, last_event_id: int = 0) -> AsyncIterator[str]:
    """The stream for an ASGI server: it waits on the event loop and holds no thread."""
    feed = _Feed(generation_id=generation_id, last_event_id=last_event_id)
    # Database reads run on the loop's shared thread pool, whose few threads keep their
    # connections, instead of one thread (and connection) per stream.
    catch_up = sync_to_async(_in_pool(feed.catch_up), thread_sensitive=False)
    read_position = sync_to_async(_in_pool(feed.read_position), thread_sensitive=False)
    deadline = time.monotonic() + settings.ATELIER_EVENT_STREAM_MAX_SECONDS
    with pubsub.subscribe(generation_channel(generation_id), QUEUE_CHANNEL) as subscription:
        yield "retry: 2000\n\n"
        for frame in await catch_up():
            yield frame
        last_beat = time.monotonic()
        while not feed.done and time.monotonic() < deadline:
            _follow_queue(feed, subscription)
            message = await subscription.get(feed.wait_seconds(deadline=deadline, last_beat=last_beat))
            frames = []
            if message is not None:
                frames = await catch_up() if message.get("resync") else feed.apply(message)
            if feed.position_due():
                frames += await read_position()
            for frame in frames:
                yield frame
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"


def _in_pool(read):
    """A read on a pool thread, where no request cycle manages the connection: as Django does
    around a request, drop one that broke or outlived CONN_MAX_AGE before and after (with
    CONN_MAX_AGE=0, as under ASGI, the read opens and closes its own)."""

    def run():
        close_old_connections()
        try:
            return read()
        finally:
            close_old_connections()

    return run


def _follow_queue(feed: _Feed, subscription: pubsub.Subscription) -> None:
    """Once the job has left its queue, the queue's moves are no longer this stream's business."""
    if feed.status != Status.IN_QUEUE and QUEUE_CHANNEL in subscription.channels:
        subscription.unsubscribe(QUEUE_CHANNEL)
