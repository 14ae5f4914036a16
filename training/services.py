"""Every write of the training app: datasets, the quote, the credit hold, cancel, refunds, LoRAs."""

from __future__ import annotations

import logging
import math
import secrets
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from credits.models import LedgerEntry
from credits.selectors import credits_balance, plan_for_user
from credits.services import credits_debit, credits_grant
from ops.errors import ApplicationError, Conflict, PayloadTooLarge, ProviderUnavailable, QuotaExceeded, ValidationFailed
from ops.task_messages import task_send
from training import datasets
from training.models import TERMINAL_STATUSES, LoRA, Status, TrainingDataset, TrainingEvent, TrainingJob
from training.providers import training_provider
from training.state import transition

logger = logging.getLogger(__name__)


def dataset_limits(*, user) -> datasets.Limits:
    plan = plan_for_user(user=user)
    by_plan = settings.ATELIER_TRAINING_MAX_IMAGES_BY_PLAN
    return datasets.Limits(
        max_images=by_plan.get(plan.slug, settings.ATELIER_TRAINING_MAX_IMAGES),
        max_total_bytes=plan.max_upload_bytes,
        min_images=settings.ATELIER_TRAINING_MIN_IMAGES,
        min_side=settings.ATELIER_TRAINING_MIN_IMAGE_SIDE,
        max_image_bytes=settings.ATELIER_UPLOAD_MAX_IMAGE_BYTES,
    )


def dataset_create(*, user, files: list | None = None, zip_data: bytes | None = None) -> TrainingDataset:
    """Checks an upload (image files with optional .txt captions, or one zip) and stores it."""
    limits = dataset_limits(user=user)
    warnings: list[str] = []
    if zip_data is not None:
        if len(zip_data) > limits.max_total_bytes:
            raise PayloadTooLarge(
                details=f"The zip is {len(zip_data)} bytes; your plan allows {limits.max_total_bytes}."
            )
        entries, warnings = datasets.zip_entries(zip_data, limits=limits)
    else:
        entries = []
        total = 0
        for upload in files or []:
            total += upload.size or 0
            if total > limits.max_total_bytes:
                raise PayloadTooLarge(details=f"The files total more than your plan's {limits.max_total_bytes} bytes.")
            if (upload.size or 0) > limits.max_image_bytes:
                raise ValidationFailed(
                    "Some files cannot be used for training",
                    details={"files": {upload.name: [f"Refused: larger than {limits.max_image_bytes} bytes."]}},
                )
            entries.append(datasets.Entry(name=upload.name or "upload", data=upload.read()))
        if not entries:
            raise ValidationFailed(
                details={"files": ["Send image files as files[] (with optional .txt captions) or one zip."]}
            )
    checked = datasets.dataset_check(entries, limits=limits, warnings=warnings)
    dataset = TrainingDataset(
        user=user,
        image_count=len(checked.images),
        total_size=checked.total_size,
        manifest=[
            {
                "name": image.name,
                "width": image.width,
                "height": image.height,
                "sha256": image.sha256,
                "caption": image.caption,
            }
            for image in checked.images
        ],
        warnings=checked.warnings,
    )
    dataset.archive.save(f"{dataset.pk}.zip", ContentFile(datasets.archive_bytes(checked)), save=False)
    dataset.save()
    return dataset


def training_price(*, provider: str, steps: int) -> int:
    """Credits for a run: the provider's base price plus its price per thousand steps."""
    base = settings.ATELIER_TRAINING_BASE_CREDITS.get(provider, 0)
    per_thousand = settings.ATELIER_TRAINING_CREDITS_PER_1000_STEPS.get(provider, 0)
    return base + math.ceil(steps * per_thousand / 1000)


def training_estimate_seconds(*, provider: str, steps: int, image_count: int) -> int:
    seconds_per_step = settings.ATELIER_TRAINING_SECONDS_PER_STEP.get(provider, 1.0)
    return max(5, math.ceil(steps * seconds_per_step + image_count * 0.5))


def _options(*, data: dict, dataset: TrainingDataset) -> dict:
    provider = data.get("provider") or settings.ATELIER_TRAINING_DEFAULT_PROVIDER
    try:
        adapter = training_provider(provider)
    except KeyError:
        raise ValidationFailed(
            details={"provider": [f"Unknown training provider '{provider}'. Use one of: local, fal, replicate."]}
        ) from None
    if not adapter.is_configured():
        missing = " and ".join(adapter.missing_settings())
        raise ProviderUnavailable(
            f"The {provider} training provider is not configured",
            details=f"Set {missing} to enable {provider} training." if missing else None,
        )
    steps = data.get("steps") or adapter.default_steps
    if not adapter.min_steps <= steps <= adapter.max_steps:
        raise ValidationFailed(
            details={"steps": [f"{provider} trains {adapter.min_steps} to {adapter.max_steps} steps."]}
        )
    return {
        "provider": provider,
        "base_model": data.get("base_model") or adapter.default_base_model,
        "steps": steps,
        "rank": data.get("rank") or 16,
        "learning_rate": data.get("learning_rate") or adapter.default_learning_rate,
        "is_style": bool(data.get("is_style", False)),
        "create_masks": data.get("create_masks", True) is not False,
        "trigger_word": data["trigger_word"],
        "cost": training_price(provider=provider, steps=steps),
        "estimated_seconds": training_estimate_seconds(provider=provider, steps=steps, image_count=dataset.image_count),
    }


def training_quote(*, user, data: dict, dataset: TrainingDataset) -> dict:
    """``dry_run``: the price and whether the balance covers it. Validates; charges nothing."""
    options = _options(data=data, dataset=dataset)
    remaining = credits_balance(user=user)
    return {
        "provider": options["provider"],
        "steps": options["steps"],
        "cost": options["cost"],
        "credits_remaining": remaining,
        "sufficient": remaining >= options["cost"],
        "estimated_seconds": options["estimated_seconds"],
    }


def _allowance_check(*, user, provider: str) -> None:
    # Plans sell provider trainings, which cost real money upstream; the local trainer costs none
    # and is not counted against the allowance.
    if provider == "local" or not settings.ATELIER_TRAINING_ALLOWANCE_ENABLED:
        return
    plan = plan_for_user(user=user)
    month_start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    used = TrainingJob.objects.filter(user=user, created_at__gte=month_start).exclude(provider="local").count()
    if used >= plan.training_allowance:
        raise QuotaExceeded(
            f"Your {plan.name} plan includes {plan.training_allowance} provider trainings a month",
            details="Train with the local provider, or upgrade your plan.",
        )


def training_start(*, user, data: dict, dataset: TrainingDataset) -> TrainingJob:
    """Holds the quoted credits on the ledger and queues the job, in one transaction (402 when short)."""
    options = _options(data=data, dataset=dataset)
    _allowance_check(user=user, provider=options["provider"])
    now = timezone.now()
    with transaction.atomic():
        job = TrainingJob.objects.create(
            user=user,
            dataset=dataset,
            status=Status.QUEUED,
            seed=secrets.randbelow(2**31),
            heartbeat_at=now,
            logs=[{"at": now.isoformat(), "message": f"Queued: {options['steps']} steps on {options['provider']}"}],
            **options,
        )
        credits_debit(user=user, amount=job.cost, reason=f"LoRA training “{job.trigger_word}” hold")
        TrainingEvent.objects.create(job=job, type=TrainingEvent.Type.STATUS, data={"status": Status.QUEUED})
        transaction.on_commit(partial(training_dispatch, job_id=job.pk))
    return job


def training_dispatch(*, job_id) -> None:
    """Sends the job to the training queue (by task name, as every service does)."""
    task_send("training.run", args=[str(job_id)], queue=settings.ATELIER_TRAINING_QUEUE)


def training_refund(*, job_id, amount: int, reason: str) -> int:
    """Gives back ``amount`` of the job's hold, at most once per job whatever races happen."""
    amount = max(0, amount)
    with transaction.atomic():
        won = TrainingJob.objects.filter(pk=job_id, refunded_at__isnull=True, cost__gte=amount).update(
            refunded=amount, refunded_at=timezone.now()
        )
        if not won or amount == 0:
            return 0
        job = TrainingJob.objects.select_related("user").get(pk=job_id)
        credits_grant(user=job.user, amount=amount, reason=reason, kind=LedgerEntry.Kind.REFUND)
    return amount


def unused_credits(job: TrainingJob) -> int:
    """The part of the hold not yet spent: by steps done, rounded in the user's favour."""
    used = math.floor(job.cost * min(job.current_step, job.steps) / max(1, job.steps))
    return job.cost - used


def training_fail(
    *, job_id, error: str, error_type: str = "provider_error", holder: str | None = None, only_if: dict | None = None
) -> bool:
    """Fails the job and refunds its whole hold (nothing was delivered)."""
    with transaction.atomic():
        moved = transition(
            job_id=job_id,
            to=Status.FAILED,
            holder=holder,
            only_if=only_if,
            log=f"Failed: {error}",
            error=error[:2000],
            error_type=error_type,
        )
        if moved:
            job = TrainingJob.objects.get(pk=job_id)
            training_refund(job_id=job_id, amount=job.cost, reason=f"LoRA training “{job.trigger_word}” failed")
    return moved


def training_cancel(*, job: TrainingJob) -> TrainingJob:
    """Stops the job (its worker notices at its next step) and refunds the unused part of the hold."""
    if job.status in TERMINAL_STATUSES:
        raise Conflict(f"The training is already {job.status}")
    request_id = job.provider_request_id
    with transaction.atomic():
        moved = transition(job_id=job.pk, to=Status.CANCELLED, log="Cancelled by the owner")
        if not moved:
            job.refresh_from_db()
            raise Conflict(f"The training is already {job.status}")
        job.refresh_from_db()
        amount = unused_credits(job)
        training_refund(job_id=job.pk, amount=amount, reason=f"LoRA training “{job.trigger_word}” cancelled")
    if request_id:
        # Best effort, after the commit: the job is cancelled and refunded whatever the provider says.
        try:
            training_provider(job.provider).cancel(job=job)
        except ApplicationError as exc:
            logger.warning("Could not cancel training %s at %s: %s", job.pk, job.provider, exc.message)
    job.refresh_from_db()
    return job


def lora_create(*, job: TrainingJob, weights: bytes, config: bytes, reference: str = "") -> LoRA:
    lora = LoRA(
        user=job.user,
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
    # Seed 004's training.completed for operators' endpoints, sent once the completion commits.
    from webhooks.services import webhook_event_emit_safely

    webhook_event_emit_safely(
        event="training.completed",
        payload={
            "user_id": job.user_id,
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
