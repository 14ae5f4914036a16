"""Server-sent events for one training job: status, progress (step, loss), log lines and samples.

The job kernel's stream (``core.jobs.stream``), as for generations: every stored event is
pushed when its transaction commits (``training.state``), and a stream waits on its
subscription. The database is read when the stream opens (what came before, or after the
client's ``Last-Event-ID``) and after the listener reconnected, never while it waits: an idle
stream costs no query and sends a heartbeat comment. It ends after the terminal status.

An async iterator for ASGI servers (a stream holds no thread), a plain one for WSGI servers and
the development server.
"""

from collections.abc import AsyncIterator, Iterator

from django.conf import settings

from core import jobs
from training.state import TRAINING_JOBS, training_channel

__all__ = ["HEARTBEAT_SECONDS", "training_channel", "training_event_stream", "training_event_stream_async"]

HEARTBEAT_SECONDS = 15.0


def training_event_stream(*, job_id, last_event_id: int = 0) -> Iterator[str]:
    """The stream for a WSGI server: it holds its thread, blocked on the subscription."""
    return jobs.event_stream(
        jobs.Feed(TRAINING_JOBS, job_id=job_id, last_event_id=last_event_id),
        heartbeat_seconds=HEARTBEAT_SECONDS,
        max_seconds=settings.ATELIER_EVENT_STREAM_MAX_SECONDS,
    )


def training_event_stream_async(*, job_id, last_event_id: int = 0) -> AsyncIterator[str]:
    """The stream for an ASGI server: it waits on the event loop and holds no thread."""
    return jobs.event_stream_async(
        jobs.Feed(TRAINING_JOBS, job_id=job_id, last_event_id=last_event_id),
        heartbeat_seconds=HEARTBEAT_SECONDS,
        max_seconds=settings.ATELIER_EVENT_STREAM_MAX_SECONDS,
    )
