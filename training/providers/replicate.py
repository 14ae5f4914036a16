"""``replicate``: Replicate's trainings API, into a destination model of ours.

``trainings.create`` names the trainer (``owner/name:version``), its input (our dataset zip),
the destination model that receives the new version, and a webhook signed with Standard
Webhooks. Short poll tasks follow the training; ``trainings.cancel`` stops it. The output's
``weights`` are downloaded into our storage; its ``version`` is the LoRA's provider reference.
"""

from __future__ import annotations

from django.conf import settings

from core.errors import ProviderError, ValidationFailed
from generation.providers.clients.replicate import replicate_call, replicate_sdk_client, training_cancel
from training.providers.base import RemoteStatus, TrainingProvider
from training.providers.fal import dataset_url

STATES = {
    "starting": "queued",
    "processing": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "cancelled",
}


class ReplicateTraining(TrainingProvider):
    name = "replicate"
    remote = True
    default_steps = 1000
    min_steps = 1
    max_steps = 10000
    default_learning_rate = 0.0004

    @property
    def default_base_model(self) -> str:
        return settings.ATELIER_REPLICATE_TRAINER

    required_settings = ("REPLICATE_API_TOKEN", "ATELIER_REPLICATE_TRAINING_DESTINATION")

    def is_configured(self) -> bool:
        return not self.missing_settings()

    def submit(self, *, job, webhook_url: str) -> str:
        trainer = job.base_model or settings.ATELIER_REPLICATE_TRAINER
        model, _, version = trainer.partition(":")
        if not version:
            raise ValidationFailed(details={"base_model": ["A Replicate trainer is named owner/name:version."]})
        arguments = {
            "model": model,
            "version": version,
            "destination": settings.ATELIER_REPLICATE_TRAINING_DESTINATION,
            "input": {
                "input_images": dataset_url(job),
                "trigger_word": job.trigger_word,
                "steps": job.steps,
                "lora_rank": job.rank,
                "learning_rate": job.learning_rate,
                "autocaption": not job.is_style,
            },
        }
        if webhook_url:
            arguments["webhook"] = webhook_url
            arguments["webhook_events_filter"] = ["start", "logs", "completed"]
        training = replicate_call(lambda: replicate_sdk_client().trainings.create(**arguments))
        if not isinstance(training.id, str) or not training.id:
            raise ProviderError("Replicate returned an answer that could not be read")
        return training.id

    def poll(self, *, job) -> RemoteStatus:
        training = replicate_call(lambda: replicate_sdk_client().trainings.get(job.provider_request_id))
        return self._status(
            {"status": training.status, "logs": training.logs, "output": training.output, "error": training.error}
        )

    def parse_webhook(self, *, job, payload: dict) -> RemoteStatus:
        if payload.get("id") != job.provider_request_id:
            raise ProviderError("The webhook is about another training")
        return self._status(payload)

    def _status(self, training: dict) -> RemoteStatus:
        state = STATES.get(training.get("status"))
        if state is None:
            raise ProviderError("Replicate returned an answer that could not be read")
        logs = [
            f"replicate: {line.strip()[:500]}" for line in (training.get("logs") or "").splitlines() if line.strip()
        ]
        if state == "failed":
            return RemoteStatus(state=state, logs=logs, error=f"Replicate failed the training: {training.get('error')}")
        if state != "succeeded":
            return RemoteStatus(state=state, logs=logs[-20:])
        output = training.get("output") or {}
        if not isinstance(output, dict) or not output.get("weights"):
            raise ProviderError("Replicate answered without trained weights")
        return RemoteStatus(
            state=state, logs=logs[-20:], weights_url=output["weights"], reference=output.get("version") or ""
        )

    def cancel(self, *, job) -> bool:
        return training_cancel(job.provider_request_id)
