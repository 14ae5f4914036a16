"""The training state machine: which status may follow which, and the worker's lease.

Moves go through the job kernel (``core.jobs``), as generation's do: every transition is a
compare-and-swap UPDATE (``WHERE status IN allowed_from``), so of a worker, a cancel, a webhook
and the recovery pass racing on one job, exactly one wins each move. A worker claims a job with
a fresh ``lease``; its later writes match that lease, so a worker that lost the job (recovered
after it stalled) cannot write. Each move and each report stores its events, announced to the
job's live streams (``training.event_stream``) when it commits.
"""

from django.db.models import F
from django.utils import timezone

from core import jobs
from core.json_append import JSONAppend
from training.models import RUNNING_STATUSES, TERMINAL_STATUSES, Status, TrainingEvent, TrainingJob

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


def training_channel(job_id) -> str:
    return f"training:{job_id}"


TRAINING_JOBS = jobs.JobKind(
    model=TrainingJob,
    event_model=TrainingEvent,
    job_field="job_id",
    allowed_from=ALLOWED_FROM,
    terminal_statuses=TERMINAL_STATUSES,
    channel=training_channel,
    status_keys=("error", "error_type", "progress"),
    lease_field="lease",
)

IllegalTransition = jobs.IllegalTransition
log_line = jobs.log_line


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
        line = jobs.log_line(log, at=now)
        fields["logs"] = JSONAppend("logs", line)
    moved = jobs.transition(
        TRAINING_JOBS, job_id=job_id, to=to, fields=fields, log=line, holder=holder, only_if=only_if
    )
    return moved is not None


def claim(*, job_id) -> str | None:
    """queued → preprocessing for this worker; its lease, or None when someone else has the job."""
    now = timezone.now()
    line = jobs.log_line("Worker started", at=now)
    fields = {"attempts": F("attempts") + 1, "started_at": now, "updated_at": now, "heartbeat_at": now}
    fields["logs"] = JSONAppend("logs", line)
    return jobs.claim(TRAINING_JOBS, job_id=job_id, to=Status.PREPROCESSING, log=line, fields=fields)


def record(*, job_id, lease: str, log: str | None = None, event: dict | None = None, **fields) -> bool:
    """Progress from the lease holder: fields, a log line and a progress event in one UPDATE.

    False when the lease is gone (the job was cancelled, failed or recovered): stop working.
    """
    now = timezone.now()
    fields["updated_at"] = now
    fields["heartbeat_at"] = now
    events = []
    if log is not None:
        line = jobs.log_line(log, at=now)
        fields["logs"] = JSONAppend("logs", line)
        events.append((TrainingEvent.Type.LOG, line))
    if event is not None:
        event = dict(event)
        events.append((event.pop("type"), event))
    return jobs.record(
        TRAINING_JOBS,
        job_id=job_id,
        where={"lease": lease, "status__in": RUNNING_STATUSES},
        fields=fields,
        events=events,
    )
