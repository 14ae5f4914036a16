"""LoRAs: made from a finished job, renamed and deleted by their owner."""

from __future__ import annotations

from django.core.files.base import ContentFile

from core.errors import ValidationFailed
from training.models import LoRA, TrainingJob
from training.signals import training_completed


def lora_create(*, job: TrainingJob, weights: bytes, config: bytes, reference: str = "") -> LoRA:
    lora = LoRA(
        user=job.user,
        team_id=job.team_id,
        job=job,
        name=f"{job.trigger_word} ({job.provider})",
        trigger_word=job.trigger_word,
        provider=job.provider,
        base_model=job.base_model,
        provider_reference=reference,
    )
    lora.weights.save(f"{job.pk}/model_{job.pk.hex[:12]}.safetensors", ContentFile(weights), save=False)
    lora.config.save(f"{job.pk}/config_{job.pk.hex[:12]}.json", ContentFile(config), save=False)
    lora.save()
    # Seed 004's training.completed: the outbound webhooks send it once the completion commits.
    training_completed.send(
        sender=LoRA,
        payload={
            "user_id": job.user_id,
            "team_id": str(job.team_id) if job.team_id else None,
            "training_id": str(job.pk),
            "model_url": f"/api/training/{job.pk}/files/model.safetensors",
            "lora_id": str(lora.pk),
            "provider": job.provider,
        },
    )
    return lora


def lora_rename(*, lora: LoRA, name: str) -> LoRA:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationFailed(details={"name": ["Use 1 to 100 characters."]})
    LoRA.objects.filter(pk=lora.pk).update(name=name)
    lora.name = name
    return lora


def lora_delete(*, lora: LoRA) -> None:
    """Deletes the LoRA and its files; generations that used it keep their images."""
    files = [f for f in (lora.weights, lora.config) if f]
    lora.delete()
    for stored in files:
        stored.storage.delete(stored.name)
