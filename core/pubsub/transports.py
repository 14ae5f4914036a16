"""How messages reach the other processes: Redis pub/sub, or datagrams between the processes
of one machine."""

import atexit
import contextlib
import hashlib
import json
import logging
import os
import socket
import tempfile
import threading
import time
from urllib.parse import urlsplit

import redis
from django.conf import settings

from core.pubsub.hub import RESYNC, Hub

logger = logging.getLogger("core.pubsub")

LISTENER_READY_TIMEOUT = 5.0


def channel_prefix(redis_url: str) -> str:
    """Pub/sub channels are global to a Redis server, not per database: the database number
    keeps two deployments (or test runs) that share a server from hearing each other."""
    db = (urlsplit(redis_url).path or "/0").strip("/") or "0"
    return f"atelier:{db}:events:"


class RedisListener(threading.Thread):
    """One pattern subscription per process; reconnects and asks for a resync when it drops."""

    def __init__(self, hub: Hub, url: str, prefix: str):
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
                if self.ready.is_set() or time.monotonic() - started > LISTENER_READY_TIMEOUT:
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


class LocalSockets:
    """The broadcaster of one machine without Redis: every process that has subscribers binds a
    datagram socket in one folder; a publisher delivers to its own subscribers and sends each
    other socket there the message."""

    def __init__(self, hub: Hub, directory: str):
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
