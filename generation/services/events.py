"""Progress and log lines, saved on the generation and in its event feed as they arrive."""

from django.db import transaction
from django.utils import timezone

from generation.json_append import JSONAppend
from generation.models import Generation, GenerationEvent, Status


def generation_record_progress(*, generation_id, percent: int) -> None:
    with transaction.atomic(savepoint=False):
        updated = Generation.objects.filter(pk=generation_id, status=Status.PROCESSING).update(
            progress=percent, updated_at=timezone.now()
        )
        if updated:
            GenerationEvent.objects.create(
                generation_id=generation_id, type=GenerationEvent.Type.PROGRESS, data={"progress": percent}
            )


def generation_record_step(*, generation_id, percent: int, message: str) -> None:
    """Progress and the log line that explains it, in one statement and one commit."""
    now = timezone.now()
    line = {"at": now.isoformat(), "message": message}
    with transaction.atomic(savepoint=False):
        updated = Generation.objects.filter(pk=generation_id, status=Status.PROCESSING).update(
            progress=percent, logs=JSONAppend("logs", line), updated_at=now
        )
        if updated:
            GenerationEvent.objects.bulk_create(
                [
                    GenerationEvent(
                        generation_id=generation_id, type=GenerationEvent.Type.PROGRESS, data={"progress": percent}
                    ),
                    GenerationEvent(generation_id=generation_id, type=GenerationEvent.Type.LOG, data=line),
                ]
            )


def generation_record_queue_position(*, generation_id, position: int | None) -> None:
    """Where a hosted provider holds the job in its own queue (fal's queue_position); None once it runs."""
    Generation.objects.filter(pk=generation_id, status=Status.PROCESSING).exclude(queue_position=position).update(
        queue_position=position, updated_at=timezone.now()
    )


def generation_record_log(*, generation_id, message: str) -> None:
    now = timezone.now()
    line = {"at": now.isoformat(), "message": message}
    with transaction.atomic(savepoint=False):
        Generation.objects.filter(pk=generation_id).update(logs=JSONAppend("logs", line), updated_at=now)
        GenerationEvent.objects.create(generation_id=generation_id, type=GenerationEvent.Type.LOG, data=line)
