"""Live events published when their transaction commits, pushed to the streams that follow them.

``publish_on_commit(channel=…, message=…)`` is the one call a service makes (generation and
training alike); ``subscribe(channel)`` is what a stream holds while it is open.

With ``REDIS_URL`` messages travel through Redis pub/sub, so an event written by a worker on one
machine reaches a stream held by a web process on another. Each process keeps one connection
that listens to every channel of ours (one pattern subscription, in a daemon thread) and hands
each message to the local subscribers of its channel: a thousand open streams cost one Redis
connection and no database query while nothing happens. Without Redis (the embedded run, one
machine) ``publish`` hands the message to this process's subscribers directly, and to the other
processes that follow channels (the web server, when a worker publishes) through a datagram
to each one's Unix socket in a shared folder.

Messages are hints that something was stored, never the only copy: every event is a database
row first, so a stream that (re)connects reads what it missed from the database
(``Last-Event-ID``), and after the listener loses Redis every subscriber is told to do so.
"""

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from functools import partial

import redis
from django.conf import settings
from django.db import transaction

from core.pubsub.hub import RESYNC, Hub, Subscription
from core.pubsub.transports import (
    LISTENER_READY_TIMEOUT,
    LocalSockets,
    RedisListener,
    channel_prefix,
    local_socket_directory,
)

__all__ = ["RESYNC", "Subscription", "channel_prefix", "publish", "publish_on_commit", "subscribe", "subscriber_count"]

logger = logging.getLogger(__name__)


class _Bus:
    def __init__(self, redis_url: str):
        self.hub = Hub()
        self.redis_url = redis_url
        self.prefix = channel_prefix(redis_url) if redis_url else ""
        self._client = redis.Redis.from_url(redis_url) if redis_url else None
        self._local = None if redis_url else LocalSockets(self.hub, local_socket_directory())
        self._listener: RedisListener | None = None
        self._lock = threading.Lock()
        self.key: tuple[str, str] = ("", "")

    def publish(self, channel: str, message: dict) -> None:
        if self._client is None:
            self.hub.deliver(channel, message)
            self._local.send_others(channel, message)
            return
        payload = json.dumps(message, separators=(",", ":"))
        try:
            self._client.publish(self.prefix + channel, payload)
        except redis.RedisError:
            # The event is stored; streams see it when they next read the database.
            logger.warning("Live events: could not publish on %s", channel, exc_info=True)

    def subscribe(
        self, channels: tuple[str, ...], loop: asyncio.AbstractEventLoop | None, accepts: Callable[[dict], bool] | None
    ) -> Subscription:
        if self._client is not None:
            self._ensure_listener()
        else:
            self._local.listen()
        subscription = Subscription(self.hub, channels, loop, accepts)
        self.hub.add(subscription)
        return subscription

    def _ensure_listener(self) -> None:
        # Started on the first subscription, in the process that serves it (after any fork).
        with self._lock:
            started = self._listener is None or not self._listener.is_alive()
            if started:
                self._listener = RedisListener(self.hub, self.redis_url, self.prefix)
                self._listener.start()
        if started:
            # The first subscriber must not miss a message published after it read the database.
            # Later ones do not wait: while Redis is away they are told to resync when it is back.
            self._listener.ready.wait(LISTENER_READY_TIMEOUT)


_bus: _Bus | None = None
_bus_lock = threading.Lock()


def _get_bus() -> _Bus:
    global _bus
    with _bus_lock:
        # Made again when the settings change (tests do).
        key = (settings.REDIS_URL, "" if settings.REDIS_URL else local_socket_directory())
        if _bus is None or _bus.key != key:
            _bus = _Bus(settings.REDIS_URL)
            _bus.key = key
        return _bus


def publish(*, channel: str, message: dict) -> None:
    """Pushes ``message`` to the subscribers of ``channel`` in every process, now."""
    _get_bus().publish(channel, message)


def publish_on_commit(*, channel: str, message: dict, using: str | None = None) -> None:
    """Pushes ``message`` once the current transaction commits (at once outside one), so a
    stream never hears of a row it cannot read yet, nor of one that was rolled back."""
    transaction.on_commit(partial(publish, channel=channel, message=message), using=using, robust=True)


def subscribe(*channels: str, accepts: Callable[[dict], bool] | None = None) -> Subscription:
    """One subscription to ``channels`` for the calling thread, or for the running event loop
    when there is one. Use it as a context manager, or close it. ``accepts``: which messages
    wake it (``Subscription``); all when None."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    return _get_bus().subscribe(channels, loop, accepts)


def subscriber_count() -> int:
    """Streams open in this process (health and tests)."""
    return _get_bus().hub.count()
