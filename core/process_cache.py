"""Small read-through caches held in the process, for reference data read on every request.

The catalog (models, settings) and the users' plans change rarely, through the admin or the
staff API, yet a generation request reads them every time. Each cache keeps what it loaded for
``ATELIER_PROCESS_CACHE_SECONDS``; a save or delete in this process clears it at once (signal
receivers in the apps), and other processes see the change when their copy expires.
"""

import threading
import time
from collections.abc import Callable, Hashable

from django.conf import settings

_ALL: list["ProcessCache"] = []


class ProcessCache:
    def __init__(self, name: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.clock = clock  # seconds that only go forward; a test may give its own
        self._entries: dict[Hashable, tuple[float, object]] = {}
        self._lock = threading.Lock()
        _ALL.append(self)

    def get(self, key: Hashable, load: Callable[[], object]):
        ttl = settings.ATELIER_PROCESS_CACHE_SECONDS
        if ttl <= 0:
            return load()
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load()
        with self._lock:
            self._entries[key] = (now + ttl, value)
        return value

    def clear(self, *args, **kwargs) -> None:
        """Forgets everything; usable as a signal receiver."""
        with self._lock:
            self._entries.clear()


def process_caches_clear() -> None:
    for cache in _ALL:
        cache.clear()
