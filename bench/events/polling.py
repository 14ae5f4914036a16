"""The event stream as it was before events were pushed: each stream reads the database four
times a second (kept here only to be measured against the pushed one)."""

import json
import time
from collections.abc import Iterator

from django.conf import settings

from generation.models import TERMINAL_STATUSES, Generation, GenerationEvent
from generation.selectors import generation_events_after, generation_queue_position

POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0


def _frame(*, event: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def polling_event_stream(*, generation_id, last_event_id: int = 0) -> Iterator[str]:
    yield "retry: 2000\n\n"
    deadline = time.monotonic() + settings.ATELIER_EVENT_STREAM_MAX_SECONDS
    last_beat = time.monotonic()
    last_position: int | None = -1
    while time.monotonic() < deadline:
        generation = Generation.objects.only("pk", "status", "provider", "queued_at").get(pk=generation_id)
        for event in generation_events_after(generation_id=generation_id, after_id=last_event_id):
            last_event_id = event.pk
            yield _frame(event=event.type, data=event.data, event_id=event.pk)
            if event.type == GenerationEvent.Type.STATUS and event.data.get("status") in TERMINAL_STATUSES:
                return
        if generation.status in TERMINAL_STATUSES:
            return
        position = generation_queue_position(generation=generation)
        if position != last_position and position is not None:
            yield _frame(event="queue_position", data={"queue_position": position})
        last_position = position
        if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
            last_beat = time.monotonic()
            yield ": keep-alive\n\n"
        time.sleep(POLL_SECONDS)
