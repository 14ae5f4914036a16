"""Reads of the training app, always scoped to the owner (or to a signed link)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.storage import Storage, default_storage
from django.db.models import QuerySet

from core.numbers import parse_int
from teams.selectors import space_listed_q, space_visible_q
from training.datasets import dataset_public_token_valid
from training.models import LoRA, TrainingDataset, TrainingEvent, TrainingJob


@dataclass(frozen=True)
class TrainingFile:
    """One file of a job to serve: where it is stored, the name it is served as, its type."""

    storage: Storage
    path: str
    filename: str
    content_type: str

    def open(self):
        return self.storage.open(self.path, "rb")


def dataset_get(*, user, dataset_id) -> TrainingDataset | None:
    return TrainingDataset.objects.filter(user=user, pk=dataset_id).first()


def dataset_public_get(*, dataset_id, timestamp: str, signature: str) -> TrainingDataset | None:
    """The dataset behind a provider's signed, expiring link; None when the link is not valid."""
    if not dataset_public_token_valid(dataset_id=dataset_id, timestamp=timestamp, signature=signature):
        return None
    return TrainingDataset.objects.filter(pk=dataset_id).first()


def training_list(*, user, status: str | None = None, team=None) -> QuerySet[TrainingJob]:
    """The user's personal trainings, or with ``team`` the team's."""
    queryset = TrainingJob.objects.filter(space_listed_q(user=user, team=team)).select_related("lora")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def training_get(*, user, job_id, key_team=None) -> TrainingJob | None:
    """One of the user's trainings or of their teams' (``key_team``: that team's only)."""
    visible = space_visible_q(user=user, key_team=key_team)
    return TrainingJob.objects.filter(visible, pk=job_id).select_related("lora", "dataset").first()


def training_file(*, job: TrainingJob, name: str) -> TrainingFile | None:
    """The job's file called ``name`` in its URLs: ``model.safetensors`` and ``config.json`` of
    its LoRA, ``sample-<n>.png`` of its samples; None when it has no such file."""
    lora = getattr(job, "lora", None)
    if name == "model.safetensors" and lora is not None:
        weights = lora.weights
        return TrainingFile(weights.storage, weights.name, weights.name.rsplit("/", 1)[-1], "application/octet-stream")
    if name == "config.json" and lora is not None and lora.config:
        config = lora.config
        return TrainingFile(config.storage, config.name, config.name.rsplit("/", 1)[-1], "application/json")
    if name.startswith("sample-") and name.endswith(".png"):
        index = parse_int(name[len("sample-") : -len(".png")])
        if index is not None and index < len(job.samples):
            return TrainingFile(default_storage, job.samples[index]["path"], name, "image/png")
    return None


def training_events_after(*, job_id, after_id: int) -> QuerySet[TrainingEvent]:
    return TrainingEvent.objects.filter(job_id=job_id, pk__gt=after_id).order_by("pk")


def lora_list(*, user, team=None) -> QuerySet[LoRA]:
    """The user's personal LoRAs, or with ``team`` the team's."""
    return LoRA.objects.filter(space_listed_q(user=user, team=team)).order_by("-created_at")


def lora_get(*, user, lora_id, key_team=None) -> LoRA | None:
    """One of the user's LoRAs or of their teams' (``key_team``: that team's only)."""
    return LoRA.objects.filter(space_visible_q(user=user, key_team=key_team), pk=lora_id).first()
