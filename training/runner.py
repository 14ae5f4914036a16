"""Running a job: the worker's claim, a local provider's reports, a remote provider's updates,
and the recovery pass. The providers adapt (they train, or talk to a provider's API); the moves
of the job, its records and the LoRA it makes are decided here."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.errors import ApplicationError, ProviderTransient
from core.json_append import JSONAppend
from core.task_messages import task_send
from generation.providers.downloads import download_output
from training.models import RUNNING_STATUSES, Status, TrainingEvent, TrainingJob
from training.providers import training_provider
from training.providers.base import RemoteStatus
from training.services import lora_create, training_dispatch, training_fail, training_refund, unused_credits
from training.state import claim, record, transition

logger = logging.getLogger(__name__)
_STEP = re.compile(r"(\d+)\s*/\s*(\d+)")


def training_run(*, job_id) -> None:
    """Claims a queued job and trains it (local) or hands it to its provider (remote)."""
    job = TrainingJob.objects.select_related("dataset").filter(pk=job_id).first()
    if job is None or job.status != Status.QUEUED:
        return
    lease = claim(job_id=job.pk)
    if lease is None:
        return
    job.refresh_from_db()
    provider = training_provider(job.provider)
    try:
        if provider.remote:
            _submit(job=job, lease=lease, provider=provider)
        else:
            provider.train(job=job, report=_LocalReport(job=job, lease=lease))
    except ApplicationError as exc:
        training_fail(job_id=job.pk, error=exc.message, error_type=str(exc.type), holder=lease)
    except Exception:
        logger.exception("Training %s failed", job.pk)
        training_fail(job_id=job.pk, error="Internal error while training", error_type="server_error", holder=lease)


class _LocalReport:
    """What a provider that trains in the worker reports, recorded under the worker's lease.

    Each call answers False once the job is no longer this worker's (cancelled, failed or
    recovered by another): the provider stops there.
    """

    def __init__(self, *, job: TrainingJob, lease: str):
        self.job, self.lease = job, lease

    def started(self, *, images: int, step: int) -> bool:
        note = f"resuming from the checkpoint at step {step}" if step else "starting at step 0"
        return transition(
            job_id=self.job.pk,
            to=Status.TRAINING,
            holder=self.lease,
            log=f"Preprocessed {images} images; {note}",
            current_step=step,
        )

    def first_loss(self, *, loss: float) -> bool:
        return record(job_id=self.job.pk, lease=self.lease, loss=loss, loss_history=[[0, round(loss, 6)]])

    def progress(self, *, step: int, loss: float, remaining_seconds: int | None) -> bool:
        steps = self.job.steps
        progress = min(99, round(step * 100 / steps))
        return record(
            job_id=self.job.pk,
            lease=self.lease,
            log=f"Step {step}/{steps}: Loss {loss:.6f}",
            event={"type": TrainingEvent.Type.PROGRESS, "progress": progress, "current_step": step, "loss": loss},
            progress=progress,
            current_step=step,
            loss=loss,
            loss_history=JSONAppend("loss_history", [step, round(loss, 6)]),
            estimated_remaining_seconds=remaining_seconds,
        )

    def checkpoint(self, *, step: int, state: bytes) -> bool:
        job = self.job
        saved = default_storage.save(f"training/checkpoints/{job.pk}/step_{step:06d}.npz", ContentFile(state))
        previous = TrainingJob.objects.filter(pk=job.pk).values_list("checkpoint", flat=True).first()
        kept = record(
            job_id=job.pk,
            lease=self.lease,
            log=f"Checkpoint saved at step {step}",
            checkpoint=saved,
            checkpoint_step=step,
        )
        if previous and previous != saved:
            default_storage.delete(previous)
        return kept

    def sample(self, *, step: int, seed: int, prompt: str, png: bytes) -> bool:
        name = f"training/samples/{self.job.pk}/step_{step:06d}_seed_{seed}.png"
        path = default_storage.save(name, ContentFile(png))
        sample = {"step": step, "seed": seed, "prompt": prompt, "path": path}
        return record(
            job_id=self.job.pk,
            lease=self.lease,
            event={"type": TrainingEvent.Type.SAMPLE, **sample},
            samples=JSONAppend("samples", sample),
        )

    def saving(self) -> bool:
        return transition(job_id=self.job.pk, to=Status.UPLOADING, holder=self.lease, log="Saving the trained adapter")

    def trained(self, *, weights: bytes, config: bytes, loss: float) -> None:
        job = self.job
        with transaction.atomic():
            if transition(
                job_id=job.pk,
                to=Status.COMPLETED,
                holder=self.lease,
                log=f"Completed: final loss {loss:.6f}",
                progress=100,
                current_step=job.steps,
                loss=loss,
            ):
                lora_create(job=job, weights=weights, config=config)


def webhook_url(job: TrainingJob) -> str:
    if not settings.PUBLIC_BASE_URL:
        return ""
    path = reverse("training-webhook", kwargs={"provider": job.provider, "job_id": job.pk})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def _submit(*, job: TrainingJob, lease: str, provider) -> None:
    request_id = provider.submit(job=job, webhook_url=webhook_url(job))
    if transition(
        job_id=job.pk,
        to=Status.TRAINING,
        holder=lease,
        log=f"Submitted to {job.provider}: {request_id}",
        provider_request_id=request_id,
    ):
        schedule_poll(job_id=job.pk)


def schedule_poll(*, job_id, delay: float | None = None) -> None:
    countdown = settings.ATELIER_TRAINING_POLL_SECONDS if delay is None else delay
    transaction.on_commit(
        lambda: task_send(
            "training.poll", args=[str(job_id)], countdown=countdown, queue=settings.ATELIER_TRAINING_QUEUE
        )
    )


def training_poll(*, job_id) -> None:
    """One look at a remote run; the next poll is scheduled unless it ended. Never waits."""
    job = TrainingJob.objects.filter(pk=job_id).first()
    if job is None or job.status != Status.TRAINING or not job.provider_request_id:
        return
    try:
        update = training_provider(job.provider).poll(job=job)
    except ProviderTransient as exc:
        record(job_id=job.pk, lease=job.lease, log=f"{job.provider} is busy, asking again: {exc.message}")
        schedule_poll(job_id=job.pk, delay=settings.ATELIER_TRAINING_POLL_SECONDS * 2)
        return
    except ApplicationError as exc:
        training_fail(job_id=job.pk, error=exc.message, error_type=str(exc.type))
        return
    if not training_remote_apply(job=job, update=update):
        schedule_poll(job_id=job.pk)


def training_remote_apply(*, job: TrainingJob, update: RemoteStatus) -> bool:
    """Records what a remote provider says (poll or webhook); True once the run has ended."""
    job.refresh_from_db()
    if job.status not in RUNNING_STATUSES:
        return True
    _remote_progress(job=job, update=update)
    if update.state in ("queued", "running"):
        return False
    if update.state == "failed":
        training_fail(job_id=job.pk, error=update.error or f"{job.provider} reported a failure")
        return True
    if update.state == "cancelled":
        with transaction.atomic():
            if transition(job_id=job.pk, to=Status.CANCELLED, log=f"Cancelled at {job.provider}"):
                job.refresh_from_db()
                training_refund(
                    job_id=job.pk, amount=unused_credits(job), reason=f"LoRA training “{job.trigger_word}” cancelled"
                )
        return True
    _remote_results(job=job, update=update)
    return True


def _remote_progress(*, job: TrainingJob, update: RemoteStatus) -> None:
    seen = {line.get("message") for line in job.logs}
    step = update.current_step
    for line in update.logs:
        match = _STEP.search(line)
        if match and int(match.group(2)) > 0:
            step = round(int(match.group(1)) * job.steps / int(match.group(2)))
    fields = {}
    if step is not None:
        fields["current_step"] = min(job.steps, step)
        fields["progress"] = min(99, round(fields["current_step"] * 100 / job.steps))
    new_lines = [line for line in update.logs if line not in seen]
    for index, line in enumerate(new_lines or [None]):
        last = index == len(new_lines or [None]) - 1
        record(
            job_id=job.pk,
            lease=job.lease,
            log=line,
            event={"type": TrainingEvent.Type.PROGRESS, **fields} if (last and fields) else None,
            **(fields if last else {}),
        )


def _remote_results(*, job: TrainingJob, update: RemoteStatus) -> None:
    if not transition(job_id=job.pk, to=Status.UPLOADING, holder=job.lease, log="Downloading the trained LoRA"):
        return
    accept = {"application/octet-stream": "safetensors", "binary/octet-stream": "safetensors"}
    try:
        weights = download_output(update.weights_url, provider=job.provider, accept=accept).data
        if update.config_url:
            config = download_output(
                update.config_url, provider=job.provider, accept={"application/json": "json", **accept}
            ).data
        else:
            config = json.dumps({"provider": job.provider, "reference": update.reference, "steps": job.steps}).encode()
    except ApplicationError as exc:
        training_fail(job_id=job.pk, error=f"Could not download the result: {exc.message}")
        return
    with transaction.atomic():
        if transition(job_id=job.pk, to=Status.COMPLETED, log="Completed", progress=100, current_step=job.steps):
            lora_create(job=job, weights=weights, config=config, reference=update.reference)


def training_recover_stuck() -> dict:
    """The beat's pass: nothing stays running for ever, nothing is charged twice.

    A local job whose worker stopped writing is requeued (it resumes from its checkpoint), or
    failed with a refund after too many attempts; a queued job whose message was lost is sent
    again; a remote job nobody polled lately is polled again, and failed after the deadline.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.ATELIER_TRAINING_STALE_SECONDS)
    counts = {"requeued": 0, "failed": 0, "redispatched": 0, "polled": 0}
    for job in TrainingJob.objects.filter(status__in=RUNNING_STATUSES, heartbeat_at__lt=stale):
        remote = training_provider(job.provider).remote and job.provider_request_id
        if remote and job.status == Status.TRAINING:
            deadline = (job.started_at or job.created_at) + timedelta(
                seconds=settings.ATELIER_TRAINING_REMOTE_DEADLINE_SECONDS
            )
            if now > deadline:
                if training_fail(job_id=job.pk, error="The provider did not finish in time"):
                    counts["failed"] += 1
                    _cancel_upstream(job)
            else:
                TrainingJob.objects.filter(pk=job.pk).update(heartbeat_at=now)
                schedule_poll(job_id=job.pk, delay=0)
                counts["polled"] += 1
            continue
        if job.attempts >= settings.ATELIER_TRAINING_MAX_ATTEMPTS:
            counts["failed"] += training_fail(
                job_id=job.pk,
                error="The worker stopped too many times",
                error_type="server_error",
                holder=job.lease,
                only_if={"heartbeat_at__lt": stale},
            )
            continue
        with transaction.atomic():
            # Still silent and still that worker's: a worker that wrote meanwhile keeps its job.
            moved = transition(
                job_id=job.pk,
                to=Status.QUEUED,
                holder=job.lease,
                only_if={"heartbeat_at__lt": stale},
                log=f"The worker stopped; requeued to resume from step {job.checkpoint_step}",
            )
            if moved:
                transaction.on_commit(lambda job_id=job.pk: training_dispatch(job_id=job_id))
                counts["requeued"] += 1
    for job in TrainingJob.objects.filter(status=Status.QUEUED, heartbeat_at__lt=stale):
        TrainingJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(heartbeat_at=now)
        training_dispatch(job_id=job.pk)
        counts["redispatched"] += 1
    return counts


def _cancel_upstream(job: TrainingJob) -> None:
    """Asks the provider to stop a run we gave up on, so it stops costing; best effort."""
    try:
        training_provider(job.provider).cancel(job=job)
    except ApplicationError as exc:
        logger.warning("Could not cancel training %s at %s: %s", job.pk, job.provider, exc.message)
