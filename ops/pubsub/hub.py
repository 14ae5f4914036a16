"""This process's subscribers, by channel, and the delivery of a message to them."""

import asyncio
import queue
import threading
from collections import defaultdict

# Sent to every subscriber when messages may have been lost (the listener reconnected).
RESYNC = {"resync": True}


class Subscription:
    """The messages of some channels for one consumer, either a thread or an asyncio task."""

    def __init__(self, hub: "Hub", channels: tuple[str, ...], loop: asyncio.AbstractEventLoop | None):
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


class Hub:
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
