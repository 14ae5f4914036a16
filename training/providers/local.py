"""The offline ``local`` training provider: runs training.trainer inside the worker.

It trains a style adapter for the procedural renderer (colour matrix, tone curves, detail
gain), not a diffusion LoRA. It trains and reports: the start (and the step it resumes from),
progress (step, loss, ETA), sample images at fixed seeds every few steps, a checkpoint every few
steps (from which a job whose worker died resumes), and the weights at the end. What becomes of
each report (the job's moves, its stored events and files, the LoRA) is the runner's
(``training.runner``); a report answers False when the job is no longer this worker's, and the
training stops.
"""

from __future__ import annotations

import json
import time
from typing import Protocol

from django.conf import settings

from generation.providers.local_renderer import style_adapter
from training.datasets import archive_images
from training.providers.base import TrainingProvider
from training.trainer import Trainer

SAMPLE_SEEDS = (1, 2)


class TrainingReport(Protocol):
    """What a provider that trains in the worker tells as it goes."""

    def started(self, *, images: int, step: int) -> bool: ...

    def first_loss(self, *, loss: float) -> bool: ...

    def checkpoint(self, *, step: int, state: bytes) -> bool: ...

    def sample(self, *, step: int, seed: int, prompt: str, png: bytes) -> bool: ...

    def progress(self, *, step: int, loss: float, remaining_seconds: int | None) -> bool: ...

    def saving(self) -> bool: ...

    def trained(self, *, weights: bytes, config: bytes, loss: float) -> None: ...


def sample_prompt(job) -> str:
    return f"{job.trigger_word} a landscape in the style of {job.trigger_word}"


class LocalTraining(TrainingProvider):
    name = "local"
    default_steps = 300
    min_steps = 10
    max_steps = 5000
    default_learning_rate = 0.02
    default_base_model = "local/procedural"

    def is_configured(self) -> bool:
        return True

    def train(self, *, job, report: TrainingReport) -> None:
        images = archive_images(job.dataset.archive.read())
        state = job.checkpoint.read() if job.checkpoint else None
        trainer = Trainer(
            images=images, seed=job.seed, learning_rate=job.learning_rate, total_steps=job.steps, state=state
        )
        start = trainer.step_count
        if not report.started(images=len(images), step=start):
            return
        if start == 0 and not report.first_loss(loss=trainer.loss()):
            return
        every = _every(job.steps)
        began = time.monotonic()
        while trainer.step_count < job.steps:
            trainer.step()
            step = trainer.step_count
            if step % every["log"] and step != job.steps:
                continue
            if step % every["checkpoint"] == 0 and step != job.steps:
                if not report.checkpoint(step=step, state=trainer.state()):
                    return
            if step % every["sample"] == 0 or step == job.steps:
                if not self._samples(job=job, report=report, trainer=trainer):
                    return
            rate = (step - start) / max(1e-6, time.monotonic() - began)
            remaining = round((job.steps - step) / rate) if rate > 0 else None
            if not report.progress(step=step, loss=trainer.loss(), remaining_seconds=remaining):
                return
        if not report.saving():
            return
        final = trainer.loss()
        report.trained(weights=self._weights(job=job, trainer=trainer), config=self._config(job, final), loss=final)

    def _samples(self, *, job, report: TrainingReport, trainer: Trainer) -> bool:
        prompt = sample_prompt(job)
        for seed in SAMPLE_SEEDS:
            png = style_adapter.png_bytes(trainer.sample(prompt=prompt, seed=seed))
            if not report.sample(step=trainer.step_count, seed=seed, prompt=prompt, png=png):
                return False
        return True

    def _weights(self, *, job, trainer: Trainer) -> bytes:
        return style_adapter.dumps(trainer.params, metadata={"trigger_word": job.trigger_word, "steps": str(job.steps)})

    def _config(self, job, final: float) -> bytes:
        return json.dumps(
            {
                "format": style_adapter.FORMAT,
                "kind": "style adapter for the procedural renderer (not a diffusion LoRA)",
                "trigger_word": job.trigger_word,
                "steps": job.steps,
                "learning_rate": job.learning_rate,
                "seed": job.seed,
                "final_loss": final,
                "base_model": job.base_model,
            },
            indent=2,
        ).encode()


def _every(steps: int) -> dict[str, int]:
    """How often to log, checkpoint and sample: about 20 log lines and 4 sample rounds a run."""
    log = max(1, steps // settings.ATELIER_TRAINING_LOG_LINES)
    checkpoint = max(log, settings.ATELIER_TRAINING_CHECKPOINT_EVERY // log * log)
    sample = max(log, steps // settings.ATELIER_TRAINING_SAMPLE_ROUNDS // log * log)
    return {"log": log, "checkpoint": checkpoint, "sample": sample}
