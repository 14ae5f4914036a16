"""Server-sent events for one training job: status, progress (step, loss), log lines and samples.

As for generations: every stored event is announced when its transaction commits
(``core.pubsub``, see training.state), and a stream waits on its subscription, reading the new
events from the database when told (each carries its id, so a client reconnecting with
``Last-Event-ID`` resumes after the last one it saw). A stream that hears nothing still looks
every ``RECHECK_SECONDS``, so a lost message only delays it. It ends after the terminal status.
"""

import json
import time
from collections.abc import Iterator

from django.conf import settings

from core import pubsub
from training.models import TERMINAL_STATUSES, TrainingEvent, TrainingJob
from training.selectors import training_events_after

HEARTBEAT_SECONDS = 15.0
RECHECK_SECONDS = 2.0


def training_channel(job_id) -> str:
    return f"training:{job_id}"


def _frame(*, event: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _catch_up(*, job_id, after_id: int) -> tuple[list[str], int, bool]:
    """The frames not sent yet, the last event id, and whether the stream is done."""
    status = TrainingJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    # The status is read first: if it is terminal, the events read next include its event.
    frames = []
    for event in training_events_after(job_id=job_id, after_id=after_id):
        after_id = event.pk
        frames.append(_frame(event=event.type, data=event.data, event_id=event.pk))
        if event.type == TrainingEvent.Type.STATUS and event.data.get("status") in TERMINAL_STATUSES:
            return frames, after_id, True
    return frames, after_id, status is None or status in TERMINAL_STATUSES


def training_event_stream(*, job_id, last_event_id: int = 0) -> Iterator[str]:
    deadline = time.monotonic() + settings.ATELIER_EVENT_STREAM_MAX_SECONDS
    with pubsub.subscribe(training_channel(job_id)) as subscription:
        yield "retry: 2000\n\n"
        frames, last_event_id, done = _catch_up(job_id=job_id, after_id=last_event_id)
        yield from frames
        last_beat = time.monotonic()
        while not done and time.monotonic() < deadline:
            wait = min(RECHECK_SECONDS, deadline - time.monotonic())
            subscription.get_blocking(wait)
            frames, last_event_id, done = _catch_up(job_id=job_id, after_id=last_event_id)
            yield from frames
            if frames:
                last_beat = time.monotonic()
            elif time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"
