"""Kombu's Redis transport with one command client per channel.

Kombu's Redis channel builds a new ``redis.Redis`` client object (over its shared connection
pool) for every message it publishes and every acknowledgement it writes; building one costs
about as much as the ``LPUSH`` itself. A client object holds no connection of its own and is
safe to share, so this channel builds it once. Everything else is kombu's.
"""

from contextlib import contextmanager
from functools import cached_property

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    @cached_property
    def _command_client(self):
        return self._create_client()

    @contextmanager
    def conn_or_acquire(self, client=None):
        yield client or self._command_client


class Transport(kombu_redis.Transport):
    Channel = Channel
