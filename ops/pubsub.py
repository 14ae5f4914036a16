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
import atexit
import contextlib
import hashlib
import json
import logging
import os
import queue
import socket
import tempfile
import threading
import time
from collections import defaultdict
from functools import partial
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

# Sent to every subscriber when messages may have been lost (the listener reconnected).
RESYNC = {"resync": True}
_LISTENER_READY_TIMEOUT = 5.0


def channel_prefix(redis_url: str) -> str:
    """Pub/sub channels are global to a Redis server, not per database: the database number
    keeps two deployments (or test runs) that share a server from hearing each other."""
    db = (urlsplit(redis_url).path or "/0").strip("/") or "0"
    return f"atelier:{db}:events:"


class Subscription:
    """The messages of some channels for one consumer, either a thread or an asyncio task."""

    def __init__(self, hub: "_Hub", channels: tuple[str, ...], loop: asyncio.AbstractEventLoop | None):
        self._hub = hub
        self.channels = set(channels)
        self.loop = loop
        self._queue: asyncio.Queue | queue.SimpleQueue = asyncio.Queue() if loop else queue.SimpleQueue()

    def put(self, message: dict) -> None:
        self._queue.put_nowait(message)

    def get_blocking(self, timeout: float) -> dict | None:
        try:
            return self._queue.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None

    async def get(self, timeout: float) -> dict | None:
        try:
            return await asyncio.wait_for(self._queue.get(), timeout=max(timeout, 0))
        except TimeoutError:
            return None

    def unsubscribe(self, channel: str) -> None:
        """Stops hearing ``channel``; messages already queued stay."""
        self._hub.remove(self, channels=(channel,))
        self.channels.discard(channel)

    def close(self) -> None:
        self._hub.remove(self, channels=tuple(self.channels))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class _Hub:
    """This process's subscribers by channel, and the delivery of a message to them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    def add(self, subscription: Subscription) -> None:
        with self._lock:
            for channel in subscription.channels:
                self._subscribers[channel].add(subscription)

    def remove(self, subscription: Subscription, *, channels: tuple[str, ...]) -> None:
        with self._lock:
            for channel in channels:
                subscribers = self._subscribers.get(channel)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._subscribers[channel]

    def count(self) -> int:
        with self._lock:
            return len({s for subscribers in self._subscribers.values() for s in subscribers})

    def deliver(self, channel: str | None, message: dict) -> None:
        """To the subscribers of ``channel`` (all of them when None). One wake-up per event
        loop, however many of its streams follow the channel."""
        with self._lock:
            if channel is None:
                targets = list({s for subscribers in self._subscribers.values() for s in subscribers})
            else:
                targets = list(self._subscribers.get(channel, ()))
        by_loop: dict[asyncio.AbstractEventLoop, list[Subscription]] = defaultdict(list)
        for subscription in targets:
            if subscription.loop is None:
                subscription.put(message)
            else:
                by_loop[subscription.loop].append(subscription)
        for loop, subscriptions in by_loop.items():
            try:
                loop.call_soon_threadsafe(_put_all, subscriptions, message)
            except RuntimeError:
                pass  # that loop has closed; its streams are gone


def _put_all(subscriptions: list[Subscription], message: dict) -> None:
    for subscription in subscriptions:
        subscription.put(message)


class _RedisListener(threading.Thread):
    """One pattern subscription per process; reconnects and asks for a resync when it drops."""

    def __init__(self, hub: _Hub, url: str, prefix: str):
        super().__init__(name="atelier-pubsub", daemon=True)
        self.hub, self.url, self.prefix = hub, url, prefix
        self.ready = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while True:
            pubsub = None
            try:
                # Named after the process, so that an operator can tell it in CLIENT LIST.
                name = f"atelier-events-{os.getpid()}"
                client = redis.Redis.from_url(
                    self.url, health_check_interval=30, socket_keepalive=True, client_name=name
                )
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(f"{self.prefix}*")
                pubsub.get_message(timeout=1.0)  # the subscription's confirmation
                # Subscribers that did not wait for this (a reconnection, or a first connection
                # slower than they wait) may have missed messages: they read the database again.
                if self.ready.is_set() or time.monotonic() - started > _LISTENER_READY_TIMEOUT:
                    self.hub.deliver(None, RESYNC)
                self.ready.set()
                for item in pubsub.listen():
                    if item["type"] == "pmessage":
                        channel = item["channel"].decode()[len(self.prefix) :]
                        self.hub.deliver(channel, json.loads(item["data"]))
            except Exception:  # noqa: BLE001 - the listener must outlive any Redis failure
                logger.warning("Live events: lost the Redis subscription; reconnecting", exc_info=True)
                threading.Event().wait(1.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        pubsub.close()


class _LocalSockets:
    """The broadcaster of one machine without Redis: every process that has subscribers binds a
    datagram socket in one folder; a publisher delivers to its own subscribers and sends each
    other socket there the message."""

    def __init__(self, hub: _Hub, directory: str):
        self.hub, self.directory = hub, directory
        self._socket: socket.socket | None = None
        self._socket_pid = 0
        self._path = ""
        self._lock = threading.Lock()

    def listen(self) -> None:
        with self._lock:
            if self._socket is not None and self._socket_pid == os.getpid():
                return
            os.makedirs(self.directory, exist_ok=True)
            self._path = os.path.join(self.directory, f"{os.getpid()}-{os.urandom(4).hex()}.sock")
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._socket.bind(self._path)
            self._socket_pid = os.getpid()
            atexit.register(_unlink_quietly, self._path)
            threading.Thread(target=self._receive, args=(self._socket,), name="atelier-pubsub", daemon=True).start()

    def _receive(self, sock: socket.socket) -> None:
        while True:
            data = sock.recv(1 << 20)
            try:
                channel, message = json.loads(data)
            except ValueError:
                continue
            self.hub.deliver(channel, message)

    def send_others(self, channel: str, message: dict) -> None:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return  # nobody follows anything
        payload = json.dumps([channel, message], separators=(",", ":")).encode()
        own = os.path.basename(self._path) if self._socket is not None else None
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
            for name in names:
                if not name.endswith(".sock") or name == own:
                    continue
                path = os.path.join(self.directory, name)
                try:
                    sender.sendto(payload, path)
                except (ConnectionRefusedError, FileNotFoundError):
                    _unlink_quietly(path)  # its process has gone
                except OSError:
                    logger.warning("Live events: could not reach %s", path, exc_info=True)


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def local_socket_directory() -> str:
    """A folder the processes of one installation share (VAR_DIR), short enough for socket
    paths (at most 107 bytes), else one named after it in the temporary folder."""
    var_dir = str(getattr(settings, "VAR_DIR", os.path.join(settings.BASE_DIR, "var")))
    directory = os.path.join(var_dir, "events")
    if len(directory) > 70:
        digest = hashlib.sha256(var_dir.encode()).hexdigest()[:16]
        directory = os.path.join(tempfile.gettempdir(), f"atelier-events-{digest}")
    return directory


class _Bus:
    def __init__(self, redis_url: str):
        self.hub = _Hub()
        self.redis_url = redis_url
        self.prefix = channel_prefix(redis_url) if redis_url else ""
        self._client = redis.Redis.from_url(redis_url) if redis_url else None
        self._local = None if redis_url else _LocalSockets(self.hub, local_socket_directory())
        self._listener: _RedisListener | None = None
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

    def subscribe(self, channels: tuple[str, ...], loop: asyncio.AbstractEventLoop | None) -> Subscription:
        if self._client is not None:
            self._ensure_listener()
        else:
            self._local.listen()
        subscription = Subscription(self.hub, channels, loop)
        self.hub.add(subscription)
        return subscription

    def _ensure_listener(self) -> None:
        # Started on the first subscription, in the process that serves it (after any fork).
        with self._lock:
            started = self._listener is None or not self._listener.is_alive()
            if started:
                self._listener = _RedisListener(self.hub, self.redis_url, self.prefix)
                self._listener.start()
        if started:
            # The first subscriber must not miss a message published after it read the database.
            # Later ones do not wait: while Redis is away they are told to resync when it is back.
            self._listener.ready.wait(_LISTENER_READY_TIMEOUT)


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


def subscribe(*channels: str) -> Subscription:
    """One subscription to ``channels`` for the calling thread, or for the running event loop
    when there is one. Use it as a context manager, or close it."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    return _get_bus().subscribe(channels, loop)


def subscriber_count() -> int:
    """Streams open in this process (health and tests)."""
    return _get_bus().hub.count()
