"""Server-sent events for one generation: its status, queue position, progress and log lines.

Events are pushed, not polled: every stored event is published when its transaction commits
(``core.pubsub``), and a stream waits on its subscription. A stream also follows its provider's
queue, whose movers publish the positions of the waiting jobs once per move
(``generation.events_bus``): it takes its own from the message, is not woken by a message that
does not name its job, and sends its position at most every QUEUE_POSITION_MIN_INTERVAL (the
newest), so that a fast queue does not keep the event loop from other events. The database is
read only when the stream opens (what came before, or after the client's ``Last-Event-ID``, and
its position) and when messages may have been lost (the listener reconnected): no stream reads
on another's behalf, so none waits behind another's reads. An idle stream costs no query; it
sends a comment as a heartbeat so proxies keep the connection. Queue positions are computed, not
stored, and sent without an id. The stream ends after the terminal status.

Two drivers share one ``_Feed``: an async generator for ASGI servers (a stream holds no thread)
and a plain generator for WSGI servers and the development server (a stream holds its thread).
"""

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from functools import partial

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from core import pubsub
from generation.events_bus import generation_channel, queue_channel
from generation.models import TERMINAL_STATUSES, Generation, GenerationEvent, Status
from generation.selectors import generation_events_after, generation_queue_position

HEARTBEAT_SECONDS = 15.0
# A stream sends its queue position at most this often (the newest one): a queue that drains
# fast moves many times a second, and a thousand streams woken at each move would keep the
# event loop from the events that matter more, such as the end of a job.
QUEUE_POSITION_MIN_INTERVAL = 0.5


def _frame(*, event: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


_POSITION_FRAME = "event: queue_position\n"


class _Feed:
    """What one stream has sent, and what it sends next (the part both drivers share)."""

    def __init__(self, *, generation_id, last_event_id: int):
        self.generation_id = generation_id
        self.key = str(generation_id)
        self.resume_after = last_event_id
        self.sent_ids: set[int] = set()
        self.status: str | None = None
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
        self.subscription: pubsub.Subscription | None = None
        self.done = False

    def accepts(self, message: dict) -> bool:
        """Which messages wake the stream: of a queue's positions, only those that name its job,
        and not within QUEUE_POSITION_MIN_INTERVAL of its last position (that message is held
        until then, replacing an older one). Runs in the delivering thread."""
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

    def receive(self, messages: list[dict], *, skipped: int = 0) -> list[str]:
        """Messages taken from the subscription, ``skipped`` of them before a resync, then the
        held position if it is due (no database read). Of positions that follow one another
        only the last is sent: a stream that fell behind a fast queue catches up with one frame."""
        self._consumed += skipped
        frames: list[str] = []
        for message in messages:
            self._consumed += 1
            _add_frames(frames, self.apply(message))
        _add_frames(frames, self.apply(self._take_held()))
        return frames

    def _take_held(self) -> dict:
        if self._held is None or time.monotonic() < self.position_sent_at + QUEUE_POSITION_MIN_INTERVAL:
            return {}
        with self._held_lock:
            if self._held is None or self._held[0] > self._consumed:
                return {}  # a message queued before it is still to be read
            (after, message), self._held = self._held, None
        # Held before the job's status changed (it was claimed, or sent back to its queue): out of date.
        return message if after >= self._status_seq else {}

    def catch_up(self, subscription: pubsub.Subscription) -> list[str]:
        """Reads what the stream has not sent yet, and its queue position, from the database."""
        generation = self._generation()
        if generation is None:
            self.done = True
            return []
        # Follows the job's queue before its position is read: no later move goes unheard.
        subscription.subscribe(queue_channel(generation.provider))
        # Read the status first: if it is terminal, the events read next include its event.
        self.status = generation.status
        events = generation_events_after(generation_id=self.generation_id, after_id=self.resume_after)
        frames = self._send({"id": e.pk, "type": e.type, "data": e.data} for e in events)
        if self.done:
            return frames
        if generation.status in TERMINAL_STATUSES:
            # Its terminal event was sent before the client's Last-Event-ID.
            self.done = True
            return frames
        if self.status != generation.status:
            # It moved on between the two reads: the row's position is out of date, and what
            # comes next arrives as messages.
            return frames
        position = generation_queue_position(generation=generation)
        if generation.status == Status.IN_QUEUE:
            self.queue_ceiling = position
        return frames + self._position_frames(position)

    def apply(self, message: dict) -> list[str]:
        """A pushed message (no database read)."""
        if "events" in message:
            return self._send(message["events"])
        if "positions" in message:
            return self._pushed_position(message["positions"].get(self.key))
        if "queue_position" in message:
            return self._position_frames(message["queue_position"])
        return []

    def wait_seconds(self, *, deadline: float, last_beat: float) -> float:
        """How long the stream may wait for a message: until its next heartbeat, its end, or
        the moment it may send a held position."""
        until = min(deadline, last_beat + HEARTBEAT_SECONDS)
        if self._held is not None:
            until = min(until, self.position_sent_at + QUEUE_POSITION_MIN_INTERVAL)
        return max(until - time.monotonic(), 0.0)

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
                self._status_seq = self._consumed
                if self.status == Status.IN_QUEUE:
                    # Back in its queue (a retry): its place is at the end, behind the ceiling.
                    self.queue_ceiling = None
                if self.status in TERMINAL_STATUSES:
                    self.done = True
                    break
        return frames

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
        return [_frame(event="queue_position", data={"queue_position": position})]


def generation_event_stream(*, generation_id, last_event_id: int = 0) -> Iterator[str]:
    """The stream for a WSGI server: it holds its thread, blocked on the subscription."""
    feed = _Feed(generation_id=generation_id, last_event_id=last_event_id)
    deadline = time.monotonic() + settings.ATELIER_EVENT_STREAM_MAX_SECONDS
    with pubsub.subscribe(generation_channel(generation_id), accepts=feed.accepts) as subscription:
        feed.subscription = subscription
        yield "retry: 2000\n\n"
        yield from feed.catch_up(subscription)
        last_beat = time.monotonic()
        while not feed.done and time.monotonic() < deadline:
            message = subscription.get_blocking(feed.wait_seconds(deadline=deadline, last_beat=last_beat))
            received = [message, *subscription.pending()] if message is not None else []
            skipped, messages = _after_resync(received)
            frames = feed.catch_up(subscription) if skipped is not None else []
            frames += feed.receive(messages, skipped=skipped or 0)
            if frames:
                yield "".join(frames)
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"


async def generation_event_stream_async(*, generation_id, last_event_id: int = 0) -> AsyncIterator[str]:
    """The stream for an ASGI server: it waits on the event loop and holds no thread."""
    feed = _Feed(generation_id=generation_id, last_event_id=last_event_id)
    deadline = time.monotonic() + settings.ATELIER_EVENT_STREAM_MAX_SECONDS
    with pubsub.subscribe(generation_channel(generation_id), accepts=feed.accepts) as subscription:
        feed.subscription = subscription
        # Database reads run on the loop's shared thread pool, whose few threads keep their
        # connections, instead of one thread (and connection) per stream.
        catch_up = sync_to_async(_in_pool(partial(feed.catch_up, subscription)), thread_sensitive=False)
        yield "retry: 2000\n\n"
        for frame in await catch_up():
            yield frame
        last_beat = time.monotonic()
        while not feed.done and time.monotonic() < deadline:
            message = await subscription.get(feed.wait_seconds(deadline=deadline, last_beat=last_beat))
            received = [message, *subscription.pending()] if message is not None else []
            skipped, messages = _after_resync(received)
            frames = await catch_up() if skipped is not None else []
            frames += feed.receive(messages, skipped=skipped or 0)
            if frames:
                yield "".join(frames)
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"


def _after_resync(messages: list[dict]) -> tuple[int | None, list[dict]]:
    """The messages to apply, and how many came before a resync (None: there was none). After
    a resync the database is read first, which covers what came before it."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("resync"):
            return sum(1 for m in messages[:index] if not m.get("resync")), messages[index + 1 :]
    return None, messages


def _add_frames(frames: list[str], new: list[str]) -> None:
    for frame in new:
        if frames and frame.startswith(_POSITION_FRAME) and frames[-1].startswith(_POSITION_FRAME):
            frames[-1] = frame  # the newer position
        else:
            frames.append(frame)


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
