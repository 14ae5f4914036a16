"""Server-sent events for one job: its stored events, pushed as they commit.

Events are pushed, not polled: every stored event is published when its transaction commits
(``core.jobs.state``), and a stream waits on its subscription. The database is read only when
the stream opens (what came before, or after the client's ``Last-Event-ID``) and when messages
may have been lost (the listener reconnected): an idle stream costs no query; it sends a comment
as a heartbeat so proxies keep the connection. The stream ends after the terminal status.

Two drivers share one ``Feed``: an async generator for ASGI servers (a stream holds no thread)
and a plain generator for WSGI servers and the development server (a stream holds its thread).
An app subclasses ``Feed`` for what its jobs tell besides their events (a queue's moves).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from functools import partial

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections

from core import pubsub
from core.jobs.state import JobKind

RETRY = "retry: 2000\n\n"
KEEP_ALIVE = ": keep-alive\n\n"


def frame(*, event: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class Feed:
    """What one stream has sent, and what it sends next (the part both drivers share)."""

    # Events of which only the newest of a run of frames is worth sending (a position).
    latest_only: frozenset[str] = frozenset()

    def __init__(self, kind: JobKind, *, job_id, last_event_id: int = 0):
        self.kind = kind
        self.job_id = job_id
        self.resume_after = last_event_id
        self.sent_ids: set[int] = set()
        self.status: str | None = None
        self.subscription: pubsub.Subscription | None = None
        self.done = False

    # What an app may refine.

    def accepts(self, message: dict) -> bool:
        """Which messages wake the stream (runs in the thread that delivers them)."""
        return True

    def read_job(self):
        """The job's row (``kind.read_fields``), or None when it is gone."""
        return self.kind.model.objects.only(*self.kind.read_fields).filter(pk=self.job_id).first()

    def read_events(self, after_id: int) -> Iterable[dict]:
        rows = self.kind.event_model.objects.filter(**{self.kind.job_field: self.job_id, "pk__gt": after_id})
        return ({"id": e.pk, "type": e.type, "data": e.data} for e in rows.order_by("pk"))

    def follow(self, job, subscription: pubsub.Subscription) -> None:
        """Subscribes to more channels for the job, before anything is read."""

    def opened(self, job) -> list[str]:
        """Frames of what the job's row says besides its events, once they are sent."""
        return []

    def apply_other(self, message: dict) -> list[str]:
        """Frames for a pushed message that is not stored events."""
        return []

    def on_status(self, status: str) -> None:
        """A status event was sent."""

    def due(self) -> list[str]:
        """Frames that have become due without a message (a paced one)."""
        return []

    def wake_at(self) -> float:
        """When the stream must wake up without a message (monotonic seconds)."""
        return float("inf")

    def consumed(self, count: int) -> None:
        """``count`` messages were taken from the subscription."""

    # The part the drivers call.

    def catch_up(self, subscription: pubsub.Subscription) -> list[str]:
        """Reads what the stream has not sent yet from the database."""
        job = self.read_job()
        if job is None:
            self.done = True
            return []
        self.follow(job, subscription)
        # Read the status first: if it is terminal, the events read next include its event.
        self.status = job.status
        frames = self._send(self.read_events(self.resume_after))
        if self.done:
            return frames
        if job.status in self.kind.terminal_statuses:
            # Its terminal event was sent before the client's Last-Event-ID.
            self.done = True
            return frames
        if self.status != job.status:
            # It moved on between the two reads: what comes next arrives as messages.
            return frames
        return frames + self.opened(job)

    def receive(self, messages: list[dict], *, skipped: int = 0) -> list[str]:
        """Messages taken from the subscription, ``skipped`` of them before a resync, then what
        became due meanwhile (no database read). Of frames that only the newest of counts, the
        last of a run is sent: a stream that fell behind catches up with one frame."""
        self.consumed(skipped)
        frames: list[str] = []
        for message in messages:
            self.consumed(1)
            self._add(frames, self.apply(message))
        self._add(frames, self.due())
        return frames

    def apply(self, message: dict) -> list[str]:
        """A pushed message (no database read)."""
        if "events" in message:
            return self._send(message["events"])
        return self.apply_other(message)

    def wait_seconds(self, *, deadline: float, last_beat: float, heartbeat: float) -> float:
        """How long the stream may wait for a message: until its next heartbeat, its end, or
        the moment something of its own is due."""
        until = min(deadline, last_beat + heartbeat, self.wake_at())
        return max(until - time.monotonic(), 0.0)

    def _send(self, events: Iterable[dict]) -> list[str]:
        frames = []
        for event in events:
            event_id = event["id"]
            if event_id <= self.resume_after or event_id in self.sent_ids:
                continue
            self.sent_ids.add(event_id)
            frames.append(frame(event=event["type"], data=event["data"], event_id=event_id))
            if event["type"] == self.kind.status_event:
                self.status = event["data"].get("status")
                self.on_status(self.status)
                if self.status in self.kind.terminal_statuses:
                    self.done = True
                    break
        return frames

    def _add(self, frames: list[str], new: list[str]) -> None:
        for item in new:
            if frames and self._latest_only(item) and self._latest_only(frames[-1]) == self._latest_only(item):
                frames[-1] = item  # the newer one
            else:
                frames.append(item)

    def _latest_only(self, item: str) -> str | None:
        if not self.latest_only or item.startswith("id: "):
            return None
        event = item[len("event: ") : item.index("\n")] if item.startswith("event: ") else None
        return event if event in self.latest_only else None


def event_stream(feed: Feed, *, heartbeat_seconds: float, max_seconds: float) -> Iterator[str]:
    """The stream for a WSGI server: it holds its thread, blocked on the subscription."""
    deadline = time.monotonic() + max_seconds
    with pubsub.subscribe(feed.kind.channel(feed.job_id), accepts=feed.accepts) as subscription:
        feed.subscription = subscription
        yield RETRY
        yield from feed.catch_up(subscription)
        last_beat = time.monotonic()
        while not feed.done and time.monotonic() < deadline:
            wait = feed.wait_seconds(deadline=deadline, last_beat=last_beat, heartbeat=heartbeat_seconds)
            message = subscription.get_blocking(wait)
            received = [message, *subscription.pending()] if message is not None else []
            skipped, messages = after_resync(received)
            frames = feed.catch_up(subscription) if skipped is not None else []
            frames += feed.receive(messages, skipped=skipped or 0)
            if frames:
                yield "".join(frames)
            if time.monotonic() - last_beat >= heartbeat_seconds:
                last_beat = time.monotonic()
                yield KEEP_ALIVE


async def event_stream_async(feed: Feed, *, heartbeat_seconds: float, max_seconds: float) -> AsyncIterator[str]:
    """The stream for an ASGI server: it waits on the event loop and holds no thread."""
    deadline = time.monotonic() + max_seconds
    with pubsub.subscribe(feed.kind.channel(feed.job_id), accepts=feed.accepts) as subscription:
        feed.subscription = subscription
        # Database reads run on the loop's shared thread pool, whose few threads keep their
        # connections, instead of one thread (and connection) per stream.
        catch_up = sync_to_async(_in_pool(partial(feed.catch_up, subscription)), thread_sensitive=False)
        yield RETRY
        for item in await catch_up():
            yield item
        last_beat = time.monotonic()
        while not feed.done and time.monotonic() < deadline:
            wait = feed.wait_seconds(deadline=deadline, last_beat=last_beat, heartbeat=heartbeat_seconds)
            message = await subscription.get(wait)
            received = [message, *subscription.pending()] if message is not None else []
            skipped, messages = after_resync(received)
            frames = await catch_up() if skipped is not None else []
            frames += feed.receive(messages, skipped=skipped or 0)
            if frames:
                yield "".join(frames)
            if time.monotonic() - last_beat >= heartbeat_seconds:
                last_beat = time.monotonic()
                yield KEEP_ALIVE


def after_resync(messages: list[dict]) -> tuple[int | None, list[dict]]:
    """The messages to apply, and how many came before a resync (None: there was none). After
    a resync the database is read first, which covers what came before it."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("resync"):
            return sum(1 for m in messages[:index] if not m.get("resync")), messages[index + 1 :]
    return None, messages


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


def release_database_connections() -> None:
    """For a view that hands an ASGI server a stream: its request's thread goes back to other
    requests (or stays idle for as long as the stream lasts), so it must not keep its database
    connection, or a thousand streams would hold a thousand. The stream reads through the event
    loop's shared thread pool instead."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()
