"""Progress and log lines, saved on the generation and in its event feed as they arrive; each
log line is announced (``generation_log``) once it is saved."""

from django.utils import timezone

from core import jobs
from core.json_append import JSONAppend
from generation.events_bus import generation_events_publish, generation_queue_position_publish
from generation.models import Generation, GenerationEvent, Status
from generation.state import GENERATION_JOBS
from generation.webhook_payloads import generation_log_send

PROGRESS, LOG = GenerationEvent.Type.PROGRESS, GenerationEvent.Type.LOG


def _publish(*, job_id, events) -> None:
    generation_events_publish(generation_id=job_id, events=events)


def generation_record_progress(*, generation_id, percent: int) -> None:
    jobs.record(
        GENERATION_JOBS,
        job_id=generation_id,
        where={"status": Status.PROCESSING},
        fields={"progress": percent, "updated_at": timezone.now()},
        events=[(PROGRESS, {"progress": percent})],
        publish=_publish,
    )


def generation_record_step(*, generation_id, percent: int, message: str) -> None:
    """Progress and the log line that explains it, in one statement and one commit."""
    now = timezone.now()
    line = jobs.log_line(message, at=now)
    if jobs.record(
        GENERATION_JOBS,
        job_id=generation_id,
        where={"status": Status.PROCESSING},
        fields={"progress": percent, "logs": JSONAppend("logs", line), "updated_at": now},
        events=[(PROGRESS, {"progress": percent}), (LOG, line)],
        publish=_publish,
    ):
        generation_log_send(generation_id=generation_id, message=message)


def generation_record_queue_position(*, generation_id, position: int | None) -> None:
    """Where a hosted provider holds the job in its own queue (fal's queue_position); None once it runs."""
    updated = (
        Generation.objects.filter(pk=generation_id, status=Status.PROCESSING)
        .exclude(queue_position=position)
        .update(queue_position=position, updated_at=timezone.now())
    )
    if updated:
        generation_queue_position_publish(generation_id=generation_id, position=position)


def generation_record_log(*, generation_id, message: str) -> None:
    now = timezone.now()
    line = jobs.log_line(message, at=now)
    if jobs.record(
        GENERATION_JOBS,
        job_id=generation_id,
        where={},
        fields={"logs": JSONAppend("logs", line), "updated_at": now},
        events=[(LOG, line)],
        publish=_publish,
    ):
        generation_log_send(generation_id=generation_id, message=message)
