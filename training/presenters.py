"""How jobs, datasets and LoRAs are shown: seed 004's status shapes plus the canonical fields."""

from __future__ import annotations

from training.datasets import human_size
from training.models import TrainingDataset, TrainingJob


def duration_text(seconds: float | None) -> str | None:
    """Seed 004's "12 minutes"."""
    if seconds is None:
        return None
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def training_estimate_text(seconds: int) -> str:
    """Seed 004's "20-30 minutes": the estimate and half as much again."""
    low, high = seconds, round(seconds * 1.5)
    if high < 60:
        return f"{low}-{high} seconds"
    return f"{max(1, round(low / 60))}-{max(1, round(high / 60))} minutes"


def file_urls(job: TrainingJob) -> dict:
    lora = getattr(job, "lora", None)
    if lora is None:
        return {"model_url": None, "config_url": None, "lora_id": None}
    return {
        "model_url": f"/api/training/{job.pk}/files/model.safetensors",
        "config_url": f"/api/training/{job.pk}/files/config.json" if lora.config else None,
        "lora_id": str(lora.pk),
    }


def training_as_dict(job: TrainingJob, *, brief: bool = False) -> dict:
    data = {
        "id": str(job.pk),
        "training_id": str(job.pk),
        "team": str(job.team_id) if job.team_id else None,
        "status": job.status,
        "provider": job.provider,
        "base_model": job.base_model,
        "trigger_word": job.trigger_word,
        "progress": job.progress,
        "current_step": job.current_step,
        "total_steps": job.steps,
        "estimated_remaining": duration_text(job.estimated_remaining_seconds),
        "estimated_remaining_seconds": job.estimated_remaining_seconds,
        "loss": job.loss,
        "cost": job.cost,
        "refunded": job.refunded,
        "error": job.error or None,
        "error_type": job.error_type or None,
        "image_count": job.dataset.image_count if not brief else None,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "samples": [
            {"step": s["step"], "seed": s["seed"], "url": f"/api/training/{job.pk}/files/sample-{i}.png"}
            for i, s in enumerate(job.samples)
        ],
        **file_urls(job),
    }
    if job.status == "completed":
        elapsed = (job.finished_at - job.started_at).total_seconds() if job.started_at and job.finished_at else None
        data["training_time"] = duration_text(elapsed)
        data["final_loss"] = job.loss
    if not brief:
        data["logs"] = [line["message"] for line in job.logs]
        data["log_entries"] = job.logs
        data["loss_history"] = job.loss_history
    else:
        data.pop("image_count")
    return data


def dataset_as_dict(dataset: TrainingDataset) -> dict:
    return {
        "dataset_id": str(dataset.pk),
        "images_data_url": f"/api/training/datasets/{dataset.pk}",
        "image_count": dataset.image_count,
        "total_size": human_size(dataset.total_size),
        "total_size_bytes": dataset.total_size,
        "warnings": dataset.warnings,
        "images": [{k: image[k] for k in ("name", "width", "height", "caption")} for image in dataset.manifest],
    }


def lora_as_dict(lora) -> dict:
    return {
        "id": str(lora.pk),
        "name": lora.name,
        "trigger_word": lora.trigger_word,
        "provider": lora.provider,
        "base_model": lora.base_model,
        "training_id": str(lora.job_id) if lora.job_id else None,
        "team": str(lora.team_id) if lora.team_id else None,
        "model_url": f"/api/training/{lora.job_id}/files/model.safetensors" if lora.job_id else None,
        "usage": {"loras": [{"path": str(lora.pk), "scale": 1.0}]},
        "created_at": lora.created_at,
    }
