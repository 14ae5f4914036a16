"""The job kernel generation and training share: one state machine, one event store, one stream.

``state`` — compare-and-swap transitions (with a worker's lease), stored events announced when
they commit; ``stream`` — server-sent events pushed to a job's watchers, with a WSGI and an
ASGI driver. An app describes its jobs once (``JobKind``: its models, the statuses each status
may follow, its channel) and keeps its own rules (which fields a move writes) around these.
"""

from core.jobs.state import (
    IllegalTransition,
    JobKind,
    claim,
    event_message,
    events_publish,
    events_store,
    lease_new,
    log_line,
    record,
    transition,
)
from core.jobs.stream import (
    Feed,
    event_stream,
    event_stream_async,
    frame,
    release_database_connections,
)

__all__ = [
    "Feed",
    "IllegalTransition",
    "JobKind",
    "claim",
    "event_message",
    "event_stream",
    "event_stream_async",
    "events_publish",
    "events_store",
    "frame",
    "lease_new",
    "log_line",
    "record",
    "release_database_connections",
    "transition",
]
