"""The offline ``local`` training provider: runs training.trainer inside the worker.

It trains a style adapter for the procedural renderer (colour matrix, tone curves, detail
gain), not a diffusion LoRA. Progress, loss, ETA and log lines are written as it goes, sample
images at fixed seeds every few steps, and a checkpoint every few steps, from which a job whose
worker died resumes.
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from core.json_append import JSONAppend
from generation.providers.local_renderer import style_adapter
from training.datasets import archive_images
from training.models import Status, TrainingEvent, TrainingJob
from training.providers.base import TrainingProvider
from training.state import record, transition
from training.trainer import Trainer

SAMPLE_SEEDS = (1, 2)


def sample_prompt(job: TrainingJob) -> str:
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

    def train(self, *, job: TrainingJob, lease: str) -> None:
        images = archive_images(job.dataset.archive.read())
        state = job.checkpoint.read() if job.checkpoint else None
        trainer = Trainer(
            images=images, seed=job.seed, learning_rate=job.learning_rate, total_steps=job.steps, state=state
        )
        start = trainer.step_count
        note = f"resuming from the checkpoint at step {start}" if start else "starting at step 0"
        if not transition(
            job_id=job.pk,
            to=Status.TRAINING,
            holder=lease,
            log=f"Preprocessed {len(images)} images; {note}",
            current_step=start,
        ):
            return
        if start == 0:
            loss = trainer.loss()
            if not record(job_id=job.pk, lease=lease, loss=loss, loss_history=[[0, round(loss, 6)]]):
                return
        every = _every(job.steps)
        began = time.monotonic()
        while trainer.step_count < job.steps:
            trainer.step()
            step = trainer.step_count
            if step % every["log"] and step != job.steps:
                continue
            if step % every["checkpoint"] == 0 and step != job.steps:
                if not self._checkpoint(job=job, lease=lease, trainer=trainer):
                    return
            if step % every["sample"] == 0 or step == job.steps:
                if not self._samples(job=job, lease=lease, trainer=trainer):
                    return
            if not self._progress(job=job, lease=lease, trainer=trainer, began=began, start=start):
                return
        self._finish(job=job, lease=lease, trainer=trainer)

    def _progress(self, *, job, lease, trainer: Trainer, began: float, start: int) -> bool:
        step, loss = trainer.step_count, trainer.loss()
        rate = (step - start) / max(1e-6, time.monotonic() - began)
        remaining = round((job.steps - step) / rate) if rate > 0 else None
        progress = min(99, round(step * 100 / job.steps))
        return record(
            job_id=job.pk,
            lease=lease,
            log=f"Step {step}/{job.steps}: Loss {loss:.6f}",
            event={"type": TrainingEvent.Type.PROGRESS, "progress": progress, "current_step": step, "loss": loss},
            progress=progress,
            current_step=step,
            loss=loss,
            loss_history=JSONAppend("loss_history", [step, round(loss, 6)]),
            estimated_remaining_seconds=remaining,
        )

    def _checkpoint(self, *, job, lease, trainer: Trainer) -> bool:
        name = f"training/checkpoints/{job.pk}/step_{trainer.step_count:06d}.npz"
        saved = default_storage.save(name, ContentFile(trainer.state()))
        previous = TrainingJob.objects.filter(pk=job.pk).values_list("checkpoint", flat=True).first()
        kept = record(
            job_id=job.pk,
            lease=lease,
            log=f"Checkpoint saved at step {trainer.step_count}",
            checkpoint=saved,
            checkpoint_step=trainer.step_count,
        )
        if previous and previous != saved:
            default_storage.delete(previous)
        return kept

    def _samples(self, *, job, lease, trainer: Trainer) -> bool:
        prompt = sample_prompt(job)
        for seed in SAMPLE_SEEDS:
            image = trainer.sample(prompt=prompt, seed=seed)
            name = f"training/samples/{job.pk}/step_{trainer.step_count:06d}_seed_{seed}.png"
            path = default_storage.save(name, ContentFile(style_adapter.png_bytes(image)))
            sample = {"step": trainer.step_count, "seed": seed, "prompt": prompt, "path": path}
            if not record(
                job_id=job.pk,
                lease=lease,
                event={"type": TrainingEvent.Type.SAMPLE, **sample},
                samples=JSONAppend("samples", sample),
            ):
                return False
        return True

    def _finish(self, *, job, lease, trainer: Trainer) -> None:
        from training.services import lora_create

        if not transition(job_id=job.pk, to=Status.UPLOADING, holder=lease, log="Saving the trained adapter"):
            return
        final = trainer.loss()
        weights = style_adapter.dumps(
            trainer.params, metadata={"trigger_word": job.trigger_word, "steps": str(job.steps)}
        )
        config = json.dumps(
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
        with transaction.atomic():
            if not transition(
                job_id=job.pk,
                to=Status.COMPLETED,
                holder=lease,
                log=f"Completed: final loss {final:.6f}",
                progress=100,
                current_step=job.steps,
                loss=final,
            ):
                return
            lora_create(job=job, weights=weights, config=config)


def _every(steps: int) -> dict[str, int]:
    """How often to log, checkpoint and sample: about 20 log lines and 4 sample rounds a run."""
    log = max(1, steps // settings.ATELIER_TRAINING_LOG_LINES)
    checkpoint = max(log, settings.ATELIER_TRAINING_CHECKPOINT_EVERY // log * log)
    sample = max(log, steps // settings.ATELIER_TRAINING_SAMPLE_ROUNDS // log * log)
    return {"log": log, "checkpoint": checkpoint, "sample": sample}
