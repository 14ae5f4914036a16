"""Reads of the training app, always scoped to the owner."""

from django.db.models import QuerySet

from training.models import LoRA, TrainingDataset, TrainingEvent, TrainingJob


def dataset_get(*, user, dataset_id) -> TrainingDataset | None:
    return TrainingDataset.objects.filter(user=user, pk=dataset_id).first()


def training_list(*, user, status: str | None = None) -> QuerySet[TrainingJob]:
    queryset = TrainingJob.objects.filter(user=user).select_related("lora")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def training_get(*, user, job_id) -> TrainingJob | None:
    return TrainingJob.objects.filter(user=user, pk=job_id).select_related("lora", "dataset").first()


def training_events_after(*, job_id, after_id: int) -> QuerySet[TrainingEvent]:
    return TrainingEvent.objects.filter(job_id=job_id, pk__gt=after_id).order_by("pk")


def lora_list(*, user) -> QuerySet[LoRA]:
    return LoRA.objects.filter(user=user).order_by("-created_at")


def lora_get(*, user, lora_id) -> LoRA | None:
    return LoRA.objects.filter(user=user, pk=lora_id).first()
