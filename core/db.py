"""The database connection of a request that waits (for a job, a message) without needing it."""

from django.db import connection


def connection_release() -> None:
    """Gives this thread's database connection back to its pool while the caller waits, so that a
    waiting request does not hold one of the few connections a process has; the next query takes
    one again. Nothing happens without a pool (closing would only cost a reconnect) or inside a
    transaction (the connection holds its state)."""
    if connection.settings_dict.get("OPTIONS", {}).get("pool") and not connection.in_atomic_block:
        connection.close()
