"""The training state machine: which status may follow which, and the worker's lease.

Every transition is a compare-and-swap UPDATE (``WHERE status IN allowed_from``), as in
generation.state: of a worker, a cancel, a webhook and the recovery pass racing on one job,
exactly one wins each move. A worker claims a job with a fresh ``lease``; its later writes
match that lease, so a worker that lost the job (recovered after it stalled) cannot write.
"""

import uuid

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import pubsub
from core.json_append import JSONAppend
from training.event_stream import training_channel
from training.models import RUNNING_STATUSES, Status, TrainingEvent, TrainingJob

ALLOWED_FROM: dict[str, frozenset[str]] = {
    # Back to queued: the recovery pass requeues a job whose worker died (it resumes from its
    # last checkpoint).
    Status.QUEUED: frozenset({Status.PREPROCESSING, Status.TRAINING, Status.UPLOADING}),
    Status.PREPROCESSING: frozenset({Status.QUEUED}),
    Status.TRAINING: frozenset({Status.PREPROCESSING}),
    Status.UPLOADING: frozenset({Status.TRAINING}),
    Status.COMPLETED: frozenset({Status.UPLOADING}),
    Status.FAILED: frozenset({Status.QUEUED, Status.PREPROCESSING, Status.TRAINING, Status.UPLOADING}),
    Status.CANCELLED: frozenset({Status.QUEUED, Status.PREPROCESSING, Status.TRAINING, Status.UPLOADING}),
}


class IllegalTransition(Exception):
    pass


def log_line(message: str) -> dict:
    return {"at": timezone.now().isoformat(), "message": message}


def transition(
    *, job_id, to: str, holder: str | None = None, only_if: dict | None = None, log: str | None = None, **fields
) -> bool:
    """Moves the job to ``to`` if its status allows it (and the lease ``holder`` still holds it,
    and the row matches ``only_if``); True when it moved. ``fields`` are written by the same UPDATE."""
    if to not in ALLOWED_FROM:
        raise IllegalTransition(f"No transition leads to {to!r}")
    now = timezone.now()
    if to in (Status.COMPLETED, Status.FAILED, Status.CANCELLED):
        fields.setdefault("finished_at", now)
        fields.setdefault("estimated_remaining_seconds", None)
        fields.setdefault("lease", "")
    if to == Status.QUEUED:
        fields.setdefault("lease", "")
    fields["updated_at"] = now
    fields["heartbeat_at"] = now
    line = None
    if log is not None:
        line = log_line(log)
        fields["logs"] = JSONAppend("logs", line)
    query = TrainingJob.objects.filter(pk=job_id, status__in=ALLOWED_FROM[to])
    if holder is not None:
        query = query.filter(lease=holder)
    if only_if:
        query = query.filter(**only_if)
    with transaction.atomic(savepoint=False):
        updated = query.update(status=to, **fields)
        if updated:
            data = {"status": to}
            for key in ("error", "error_type", "progress"):
                if key in fields:
                    data[key] = fields[key]
            events = [TrainingEvent(job_id=job_id, type=TrainingEvent.Type.STATUS, data=data)]
            if line is not None:
                events.insert(0, TrainingEvent(job_id=job_id, type=TrainingEvent.Type.LOG, data=line))
            TrainingEvent.objects.bulk_create(events)
            _announce(job_id)
    return bool(updated)


def _announce(job_id) -> None:
    """Tells the job's open event streams that it has new events, once they are committed."""
    pubsub.publish_on_commit(channel=training_channel(job_id), message={"new": True})


def claim(*, job_id) -> str | None:
    """queued → preprocessing for this worker; its lease, or None when someone else has the job."""
    lease = uuid.uuid4().hex
    now = timezone.now()
    moved = transition(
        job_id=job_id,
        to=Status.PREPROCESSING,
        log="Worker started",
        lease=lease,
        attempts=F("attempts") + 1,
        started_at=now,
    )
    return lease if moved else None


def record(*, job_id, lease: str, log: str | None = None, event: dict | None = None, **fields) -> bool:
    """Progress from the lease holder: fields, a log line and a progress event in one UPDATE.

    False when the lease is gone (the job was cancelled, failed or recovered): stop working.
    """
    now = timezone.now()
    fields["updated_at"] = now
    fields["heartbeat_at"] = now
    line = None
    if log is not None:
        line = log_line(log)
        fields["logs"] = JSONAppend("logs", line)
    with transaction.atomic(savepoint=False):
        updated = TrainingJob.objects.filter(pk=job_id, lease=lease, status__in=RUNNING_STATUSES).update(**fields)
        if updated:
            events = []
            if line is not None:
                events.append(TrainingEvent(job_id=job_id, type=TrainingEvent.Type.LOG, data=line))
            if event is not None:
                events.append(TrainingEvent(job_id=job_id, type=event.pop("type"), data=event))
            if events:
                TrainingEvent.objects.bulk_create(events)
                _announce(job_id)
    return bool(updated)
