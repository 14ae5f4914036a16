"""Progress and log lines, saved on the generation and in its event feed as they arrive."""

from django.db import transaction
from django.utils import timezone

from core.json_append import JSONAppend
from generation.events_bus import generation_events_publish, generation_queue_position_publish
from generation.models import Generation, GenerationEvent, Status


def generation_record_progress(*, generation_id, percent: int) -> None:
    with transaction.atomic(savepoint=False):
        updated = Generation.objects.filter(pk=generation_id, status=Status.PROCESSING).update(
            progress=percent, updated_at=timezone.now()
        )
        if updated:
            event = GenerationEvent.objects.create(
                generation_id=generation_id, type=GenerationEvent.Type.PROGRESS, data={"progress": percent}
            )
            generation_events_publish(generation_id=generation_id, events=[event])


def generation_record_step(*, generation_id, percent: int, message: str) -> None:
    """Progress and the log line that explains it, in one statement and one commit."""
    now = timezone.now()
    line = {"at": now.isoformat(), "message": message}
    with transaction.atomic(savepoint=False):
        updated = Generation.objects.filter(pk=generation_id, status=Status.PROCESSING).update(
            progress=percent, logs=JSONAppend("logs", line), updated_at=now
        )
        if updated:
            events = GenerationEvent.objects.bulk_create(
                [
                    GenerationEvent(
                        generation_id=generation_id, type=GenerationEvent.Type.PROGRESS, data={"progress": percent}
                    ),
                    GenerationEvent(generation_id=generation_id, type=GenerationEvent.Type.LOG, data=line),
                ]
            )
            generation_events_publish(generation_id=generation_id, events=events)


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
    line = {"at": now.isoformat(), "message": message}
    with transaction.atomic(savepoint=False):
        Generation.objects.filter(pk=generation_id).update(logs=JSONAppend("logs", line), updated_at=now)
        event = GenerationEvent.objects.create(generation_id=generation_id, type=GenerationEvent.Type.LOG, data=line)
        generation_events_publish(generation_id=generation_id, events=[event])
