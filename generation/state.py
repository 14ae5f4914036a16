"""The generation state machine: which status may follow which.

Every transition is a compare-and-swap UPDATE (``WHERE status IN allowed_from``), so two
workers, a cancel and a webhook racing on one generation cannot both win. The winner records
a status event for the generation's live feed in the same transaction, announced to the
streams that follow it when that transaction commits.
"""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.json_append import JSONAppend
from generation.events_bus import generation_events_publish
from generation.models import Generation, GenerationEvent, Status

ALLOWED_FROM: dict[str, frozenset[str]] = {
    # processing → in_queue is a retry after a transient error or a recovered dead worker.
    Status.IN_QUEUE: frozenset({Status.PENDING, Status.PROCESSING}),
    Status.PROCESSING: frozenset({Status.IN_QUEUE}),
    Status.COMPLETED: frozenset({Status.PROCESSING}),
    Status.FAILED: frozenset({Status.PENDING, Status.IN_QUEUE, Status.PROCESSING}),
    Status.CANCELLED: frozenset({Status.PENDING, Status.IN_QUEUE, Status.PROCESSING}),
}


logger = logging.getLogger(__name__)


class IllegalTransition(Exception):
    pass


def transition(*, generation_id, to: str, log: str | None = None, **fields) -> bool:
    """Moves the generation to ``to`` if its current status allows it; True when it moved.

    ``log``: a line for its log, written by the same UPDATE and only if it moved; in the event
    feed it comes just before the status, which stays the last event.
    """
    if to not in ALLOWED_FROM:
        raise IllegalTransition(f"No transition leads to {to!r}")
    now = timezone.now()
    if to == Status.IN_QUEUE:
        fields.setdefault("queued_at", now)
    elif to == Status.PROCESSING:
        fields.setdefault("started_at", now)
        fields.setdefault("attempts", F("attempts") + 1)
    else:
        fields.setdefault("finished_at", now)
    if to != Status.IN_QUEUE:
        fields.setdefault("queue_position", None)
    fields["updated_at"] = now
    line = None
    if log is not None:
        line = {"at": now.isoformat(), "message": log}
        fields["logs"] = JSONAppend("logs", line)
    # No savepoint: an UPDATE that matches nothing raises nothing, and an error in either
    # statement dooms the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        updated = Generation.objects.filter(pk=generation_id, status__in=ALLOWED_FROM[to]).update(status=to, **fields)
        if updated:
            data = {"status": to}
            for key in ("error", "error_type", "error_details", "progress"):
                if key in fields:
                    data[key] = fields[key]
            events = [GenerationEvent(generation_id=generation_id, type=GenerationEvent.Type.STATUS, data=data)]
            if line is not None:
                events.insert(0, GenerationEvent(generation_id=generation_id, type=GenerationEvent.Type.LOG, data=line))
            GenerationEvent.objects.bulk_create(events)
            # Leaving the queue (processing, or failed/cancelled while queued) moves the jobs behind.
            leaves_queue = to in (Status.PROCESSING, Status.FAILED, Status.CANCELLED)
            generation_events_publish(generation_id=generation_id, events=events, leaves_queue=leaves_queue)
    if updated:
        _log_transition(generation_id=generation_id, to=to, fields=fields)
    return bool(updated)


def _log_transition(*, generation_id, to: str, fields: dict) -> None:
    """One line per move, for operators. The request id in the line is that of the request the
    generation was created by: task messages carry it (config/celery.py)."""
    if to == Status.FAILED:
        logger.warning("Generation %s failed (%s): %s", generation_id, fields.get("error_type"), fields.get("error"))
    else:
        logger.info("Generation %s is %s", generation_id, to)
