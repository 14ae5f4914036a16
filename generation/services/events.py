"""Progress and log lines, saved on the generation and in its event feed as they arrive."""

from django.db import transaction
from django.utils import timezone

from generation.models import Generation, GenerationEvent, Status


def generation_record_progress(*, generation_id, percent: int) -> None:
    with transaction.atomic():
        updated = Generation.objects.filter(pk=generation_id, status=Status.PROCESSING).update(
            progress=percent, updated_at=timezone.now()
        )
        if updated:
            GenerationEvent.objects.create(
                generation_id=generation_id, type=GenerationEvent.Type.PROGRESS, data={"progress": percent}
            )


def generation_record_log(*, generation_id, message: str) -> None:
    line = {"at": timezone.now().isoformat(), "message": message}
    with transaction.atomic():
        generation = Generation.objects.select_for_update().only("logs").get(pk=generation_id)
        generation.logs = [*generation.logs, line]
        generation.save(update_fields=["logs", "updated_at"])
        GenerationEvent.objects.create(generation_id=generation_id, type=GenerationEvent.Type.LOG, data=line)
