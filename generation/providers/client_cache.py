"""One SDK client per configuration in each process, shared by the process's threads.

An SDK client holds a connection pool and a TLS context (the trust store read from disk);
building one per call costs more than many calls do, and a kept client reuses its connections.
The key names the configuration (key, address, timeout) and the trust store in use, so a
changed setting or ``SSL_CERT_FILE`` gets a client of its own.
"""

import os
import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

Client = TypeVar("Client")

_clients: dict[tuple, object] = {}
_lock = threading.Lock()


def shared_client(name: str, key: Hashable, build: Callable[[], Client]) -> Client:
    """The client ``name`` built by ``build`` for configuration ``key``, built once."""
    full_key = (name, key, os.environ.get("SSL_CERT_FILE", ""))
    with _lock:
        client = _clients.get(full_key)
        if client is None:
            client = build()
            _clients[full_key] = client
    return client
