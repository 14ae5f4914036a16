"""``fal``: fal-ai/flux-lora-fast-training through fal's queue (PROTOCOLS.md §1.10).

Submit hands fal the dataset zip (a data: URL, or our signed public URL when the deployment has
one) and a webhook; short poll tasks follow the request until the webhook or a poll sees it end.
No worker waits on fal. The result's ``diffusers_lora_file`` and ``config_file`` are downloaded
into our storage.
"""

from __future__ import annotations

import base64

from django.conf import settings

from core.errors import ProviderError
from generation.providers.clients.fal import (
    COMPLETED,
    IN_PROGRESS,
    QUEUED,
    fal_call,
    fal_cancel,
    fal_handle,
    fal_sdk_client,
    fal_state,
)
from training.datasets import dataset_public_path
from training.providers.base import RemoteStatus, TrainingProvider

APP = "fal-ai/flux-lora-fast-training"


def dataset_url(job) -> str:
    """The zip as the provider reads it: a signed link to our copy when the deployment has a public
    address and the zip is large, else inline as a data: URL (both providers accept them)."""
    dataset = job.dataset
    if settings.PUBLIC_BASE_URL and dataset.archive.size > settings.ATELIER_TRAINING_INLINE_MAX_BYTES:
        return settings.PUBLIC_BASE_URL.rstrip("/") + dataset_public_path(dataset)
    return "data:application/zip;base64," + base64.b64encode(dataset.archive.read()).decode()


class FalTraining(TrainingProvider):
    name = "fal"
    remote = True
    default_steps = 1000
    min_steps = 1
    max_steps = 10000
    default_learning_rate = 0.0004
    default_base_model = APP

    required_settings = ("FAL_KEY",)

    def is_configured(self) -> bool:
        return not self.missing_settings()

    def submit(self, *, job, webhook_url: str) -> str:
        arguments = {
            "images_data_url": dataset_url(job),
            "trigger_word": job.trigger_word,
            "steps": job.steps,
            "create_masks": job.create_masks,
            "is_style": job.is_style,
        }
        client = fal_sdk_client()
        handle = fal_call(lambda: client.submit(APP, arguments, webhook_url=webhook_url or None))
        reference = handle.response_url
        if not isinstance(reference, str) or not reference:
            raise ProviderError("fal returned an answer that could not be read")
        return reference

    def poll(self, *, job) -> RemoteStatus:
        handle = fal_handle(job.provider_request_id)
        status = fal_call(lambda: handle.status(with_logs=True))
        state = fal_state(status)
        if state == QUEUED:
            return RemoteStatus(state="queued", logs=[f"fal: in queue, position {status.position}"])
        logs = [f"fal: {line.get('message', '')}" for line in (status.logs or []) if isinstance(line, dict)]
        if state == IN_PROGRESS:
            return RemoteStatus(state="running", logs=logs)
        if state != COMPLETED:
            raise ProviderError("fal returned an answer that could not be read")
        if status.error:
            return RemoteStatus(state="failed", logs=logs, error=f"fal failed the training: {str(status.error)[:500]}")
        return self._result(fal_call(handle.get), logs=logs)

    def parse_webhook(self, *, job, payload: dict) -> RemoteStatus | None:
        if payload.get("status") == "ERROR":
            return RemoteStatus(state="failed", error=f"fal failed the training: {str(payload.get('error'))[:500]}")
        if payload.get("status") != "OK":
            raise ProviderError("fal sent a webhook that could not be read")
        result = payload.get("payload")
        if not isinstance(result, dict):
            # fal could not put the output in the webhook: the next poll reads it from the queue.
            return None
        return self._result(result, logs=[])

    def _result(self, result, *, logs) -> RemoteStatus:
        weights = (result or {}).get("diffusers_lora_file") or {}
        config = (result or {}).get("config_file") or {}
        if not isinstance(weights, dict) or not weights.get("url"):
            raise ProviderError("fal answered without a LoRA file")
        return RemoteStatus(
            state="succeeded",
            logs=logs,
            weights_url=weights["url"],
            config_url=config.get("url", "") if isinstance(config, dict) else "",
            reference=weights["url"],
        )

    def cancel(self, *, job) -> bool:
        return fal_cancel(job.provider_request_id)
