"""This process's subscribers, by channel, and the delivery of a message to them."""

import asyncio
import queue
import threading
from collections import defaultdict
from collections.abc import Callable

# Sent to every subscriber when messages may have been lost (the listener reconnected).
RESYNC = {"resync": True}


class Subscription:
    """The messages of some channels for one consumer, either a thread or an asyncio task.

    ``accepts``, when given, is asked about each message of its channels (not about a resync)
    before it is queued: a consumer is not woken for a message that is not about it. It runs in
    the publishing or listening thread, so it reads the message only.
    """

    def __init__(
        self,
        hub: "Hub",
        channels: tuple[str, ...],
        loop: asyncio.AbstractEventLoop | None,
        accepts: Callable[[dict], bool] | None = None,
    ):
        self._hub = hub
        self.channels = set(channels)
        self.loop = loop
        self.accepts = accepts
        self.closed = False
        self._queue: asyncio.Queue | queue.SimpleQueue = asyncio.Queue() if loop else queue.SimpleQueue()

    def put(self, message: dict) -> None:
        self._queue.put_nowait(message)

    def get_blocking(self, timeout: float) -> dict | None:
        try:
            return self._queue.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None

    async def get(self, timeout: float) -> dict | None:
        # Not asyncio.wait_for, which wraps the wait in a task of its own: a thousand streams
        # woken by one message are a thousand task steps, not three thousand.
        if not self._queue.empty():
            return self._queue.get_nowait()
        try:
            async with asyncio.timeout(max(timeout, 0)):
                return await self._queue.get()
        except TimeoutError:
            return None

    def wake(self) -> None:
        """Wakes the consumer with an empty message, from any thread (it may have held back a
        message its ``accepts`` refused, and must now wait for less time than it did)."""
        if self.loop is None:
            self.put({})
            return
        try:
            self.loop.call_soon_threadsafe(self.put, {})
        except RuntimeError:
            pass  # that loop has closed; its stream is gone

    def pending(self) -> list[dict]:
        """The messages already queued, without waiting (so that a consumer woken by one
        message handles those that arrived meanwhile in the same turn)."""
        messages = []
        while not self._queue.empty():
            messages.append(self._queue.get_nowait())
        return messages

    def subscribe(self, channel: str) -> None:
        """Also hears ``channel``, from now on (nothing once closed)."""
        self._hub.add(self, channels=(channel,))

    def unsubscribe(self, channel: str) -> None:
        """Stops hearing ``channel``; messages already queued stay."""
        self._hub.remove(self, channels=(channel,))
        self.channels.discard(channel)

    def close(self) -> None:
        self._hub.close(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class Hub:
    """This process's subscribers by channel, and the delivery of a message to them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    def add(self, subscription: Subscription, *, channels: tuple[str, ...] = ()) -> None:
        """Adds the subscription to its channels and to ``channels``, unless it was closed
        meanwhile (an adding thread that raced with the close leaves nothing behind)."""
        with self._lock:
            if subscription.closed:
                return
            subscription.channels.update(channels)
            for channel in subscription.channels:
                self._subscribers[channel].add(subscription)

    def remove(self, subscription: Subscription, *, channels: tuple[str, ...]) -> None:
        with self._lock:
            self._remove(subscription, channels)

    def close(self, subscription: Subscription) -> None:
        with self._lock:
            subscription.closed = True
            self._remove(subscription, tuple(subscription.channels))

    def _remove(self, subscription: Subscription, channels: tuple[str, ...]) -> None:
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
        if channel is not None:
            targets = [s for s in targets if s.accepts is None or s.accepts(message)]
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
