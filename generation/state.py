"""The generation state machine: which status may follow which.

Moves go through the job kernel (``core.jobs``): every transition is a compare-and-swap UPDATE
(``WHERE status IN allowed_from``), so two workers, a cancel and a webhook racing on one
generation cannot both win. The winner records a status event for the generation's live feed in
the same transaction, announced to the streams that follow it when that transaction commits,
with the new positions of its queue when it left or joined one. A start, a failure and a
cancellation are announced to the apps above by signals after that commit (webhook_payloads).
"""

import logging

from django.db.models import F
from django.utils import timezone

from core import jobs
from core.json_append import JSONAppend
from generation.events_bus import generation_channel, generation_events_publish
from generation.models import TERMINAL_STATUSES, Generation, GenerationEvent, Status
from generation.webhook_payloads import generation_ended_send, generation_started_send

ALLOWED_FROM: dict[str, frozenset[str]] = {
    # processing → in_queue is a retry after a transient error or a recovered dead worker.
    Status.IN_QUEUE: frozenset({Status.PENDING, Status.PROCESSING}),
    Status.PROCESSING: frozenset({Status.IN_QUEUE}),
    Status.COMPLETED: frozenset({Status.PROCESSING}),
    Status.FAILED: frozenset({Status.PENDING, Status.IN_QUEUE, Status.PROCESSING}),
    Status.CANCELLED: frozenset({Status.PENDING, Status.IN_QUEUE, Status.PROCESSING}),
}

GENERATION_JOBS = jobs.JobKind(
    model=Generation,
    event_model=GenerationEvent,
    job_field="generation_id",
    allowed_from=ALLOWED_FROM,
    terminal_statuses=TERMINAL_STATUSES,
    channel=generation_channel,
    status_keys=("error", "error_type", "error_details", "progress"),
    read_fields=("pk", "status", "provider", "queued_at", "queue_position"),
)

IllegalTransition = jobs.IllegalTransition

logger = logging.getLogger(__name__)


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
        line = jobs.log_line(log, at=now)
        fields["logs"] = JSONAppend("logs", line)
    moved = jobs.transition(
        GENERATION_JOBS, job_id=generation_id, to=to, fields=fields, log=line, publish=_publish_move
    )
    if moved is not None:
        _log_transition(generation_id=generation_id, to=to, fields=fields)
        _announce(generation_id=generation_id, to=to)
    return moved is not None


def _announce(*, generation_id, to: str) -> None:
    """Tells the apps above of a start or an unsuccessful end once the move commits (a
    completion is announced by generation_complete, which knows its images)."""
    if to == Status.PROCESSING:
        generation_started_send(generation_id=generation_id)
    elif to in (Status.FAILED, Status.CANCELLED):
        generation_ended_send(generation_id=generation_id)


def _publish_move(*, job_id, events, to: str) -> None:
    # Leaving the queue (processing, or failed/cancelled while queued) moves the jobs behind.
    leaves_queue = to in (Status.PROCESSING, Status.FAILED, Status.CANCELLED)
    generation_events_publish(generation_id=job_id, events=events, leaves_queue=leaves_queue)


def _log_transition(*, generation_id, to: str, fields: dict) -> None:
    """One line per move, for operators. The request id in the line is that of the request the
    generation was created by: task messages carry it (config/celery.py)."""
    if to == Status.FAILED:
        logger.warning("Generation %s failed (%s): %s", generation_id, fields.get("error_type"), fields.get("error"))
    else:
        logger.info("Generation %s is %s", generation_id, to)
