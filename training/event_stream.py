"""Server-sent events for one training job: status, progress (step, loss), log lines and samples.

As for generations: each stored event carries its id, so a client reconnecting with
``Last-Event-ID`` resumes after the last one it saw, and the stream ends after the terminal
status.
"""

import json
import time
from collections.abc import Iterator

from django.conf import settings

from training.models import TERMINAL_STATUSES, TrainingEvent, TrainingJob
from training.selectors import training_events_after

POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0


def _frame(*, event: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def training_event_stream(*, job_id, last_event_id: int = 0) -> Iterator[str]:
    yield "retry: 2000\n\n"
    deadline = time.monotonic() + settings.ATELIER_EVENT_STREAM_MAX_SECONDS
    last_beat = time.monotonic()
    while time.monotonic() < deadline:
        status = TrainingJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        # The status is read first: if it is terminal, the events read next include its event.
        for event in training_events_after(job_id=job_id, after_id=last_event_id):
            last_event_id = event.pk
            yield _frame(event=event.type, data=event.data, event_id=event.pk)
            if event.type == TrainingEvent.Type.STATUS and event.data.get("status") in TERMINAL_STATUSES:
                return
        if status is None or status in TERMINAL_STATUSES:
            return
        if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
            last_beat = time.monotonic()
            yield ": keep-alive\n\n"
        time.sleep(POLL_SECONDS)
