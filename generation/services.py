"""Every write to a generation: create (with its debit), enqueue, run, complete, fail, cancel."""

import logging
import secrets
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import AIModel
from catalog.selectors import model_get
from credits.services import credits_debit, credits_refund_generation
from gallery.services import asset_create
from generation import providers
from generation.models import Generation, Status
from generation.providers import ProviderJob, ProviderOutput, Reporter
from generation.state import transition
from generation.validation import generation_spec_build
from ops.errors import ApplicationError, Conflict, ErrorType, ValidationFailed

logger = logging.getLogger(__name__)


def _resolve_model(ref: str | None) -> AIModel:
    ref = ref or settings.ATELIER_DEFAULT_MODEL
    model = model_get(ref=ref)
    if model is None:
        raise ValidationFailed("Invalid model selected", details={"model": [f"Unknown model '{ref}'."]})
    return model


def generation_create(*, user, data: dict) -> Generation:
    """Validates, reserves the credits and saves the generation in one transaction.

    The run is enqueued only once that transaction has committed, so a worker never sees a
    generation that does not exist yet, and nothing is charged for a request that fails here.
    """
    model = _resolve_model(data.get("model"))
    spec = generation_spec_build(model=model, data=data)
    providers.get(model.provider)
    seed = spec.seed if spec.seed is not None else secrets.randbelow(settings.ATELIER_MAX_SEED)
    cost = model.credit_cost * spec.num_images

    with transaction.atomic():
        generation = Generation.objects.create(
            user=user,
            model=model,
            provider=model.provider,
            prompt=spec.prompt,
            final_prompt=spec.prompt,
            negative_prompt=spec.negative_prompt,
            width=spec.width,
            height=spec.height,
            num_images=spec.num_images,
            seed=seed,
            output_format=spec.output_format,
            params=spec.params,
            cost=cost,
        )
        credits_debit(
            user=user,
            amount=cost,
            reason=f"{model.name} × {spec.num_images}",
            generation=generation,
        )
        transaction.on_commit(partial(generation_enqueue, generation_id=generation.pk))
    return generation


def generation_enqueue(*, generation_id) -> None:
    from generation.tasks import run_generation

    generation = Generation.objects.only("provider").get(pk=generation_id)
    if not transition(generation_id=generation_id, to=Status.IN_QUEUE):
        return
    try:
        run_generation.apply_async(args=[str(generation_id)], queue=f"generation.{generation.provider}")
    except Exception:
        logger.exception("Could not enqueue generation %s", generation_id)
        generation_fail(
            generation_id=generation_id,
            message="The job queue is unavailable; your credits were refunded.",
            error_type=ErrorType.PROVIDER_UNAVAILABLE,
        )


def _job(generation: Generation) -> ProviderJob:
    return ProviderJob(
        generation_id=str(generation.pk),
        model_id=generation.model_id,
        upstream_model=generation.model.upstream_id,
        kind=generation.model.kind,
        prompt=generation.final_prompt,
        negative_prompt=generation.negative_prompt,
        width=generation.width,
        height=generation.height,
        num_images=generation.num_images,
        seed=generation.seed,
        output_format=generation.output_format,
        params=generation.params,
    )


def generation_record_progress(*, generation_id, percent: int) -> None:
    Generation.objects.filter(pk=generation_id, status=Status.PROCESSING).update(
        progress=percent, updated_at=timezone.now()
    )


def generation_record_log(*, generation_id, message: str) -> None:
    # Only the one worker that claimed the generation writes its logs, so read-append-write
    # does not race with another writer.
    with transaction.atomic():
        generation = Generation.objects.select_for_update().only("logs").get(pk=generation_id)
        generation.logs = [*generation.logs, {"at": timezone.now().isoformat(), "message": message}]
        generation.save(update_fields=["logs", "updated_at"])


def generation_run(*, generation_id) -> None:
    """Claims the generation and has its provider make it. Safe to call twice: only one claims."""
    if not transition(generation_id=generation_id, to=Status.PROCESSING):
        return
    generation = Generation.objects.select_related("model", "user").get(pk=generation_id)
    reporter = Reporter(
        on_progress=lambda percent: generation_record_progress(generation_id=generation_id, percent=percent),
        on_log=lambda message: generation_record_log(generation_id=generation_id, message=message),
    )
    try:
        reporter.log(f"Started on {generation.provider}")
        provider = providers.get(generation.provider)
        submission = provider.submit(_job(generation), reporter=reporter)
        if submission.finished:
            generation_complete(generation=generation, outputs=submission.outputs)
        else:
            Generation.objects.filter(pk=generation_id).update(provider_request_id=submission.request_id)
    except ApplicationError as exc:
        generation_fail(generation_id=generation_id, message=exc.message, error_type=exc.type)
    except Exception as exc:
        # Whatever went wrong, the user gets a failed generation and their credits back
        # rather than a job that stays "processing".
        logger.exception("Generation %s failed on %s", generation_id, generation.provider)
        generation_fail(
            generation_id=generation_id,
            message=f"The provider failed to generate the image: {exc}",
            error_type=ErrorType.PROVIDER_ERROR,
        )


def generation_complete(*, generation: Generation, outputs: list[ProviderOutput]) -> bool:
    """Stores the outputs as assets and completes the generation.

    If the generation was cancelled meanwhile the outputs are discarded: rows roll back and the
    files just written are removed.
    """
    stored = []
    try:
        with transaction.atomic():
            for output in outputs:
                asset = asset_create(
                    owner=generation.user,
                    data=output.data,
                    format=output.format,
                    width=output.width,
                    height=output.height,
                    type=output.type,
                    generation=generation,
                    prompt=generation.prompt,
                    model=generation.model_id,
                    seed=output.seed,
                )
                stored.append(asset)
            if not transition(generation_id=generation.pk, to=Status.COMPLETED, progress=100):
                raise _Discarded
    except _Discarded:
        for asset in stored:
            asset.file.storage.delete(asset.file.name)
        return False
    generation_record_log(generation_id=generation.pk, message=f"Completed with {len(outputs)} output(s)")
    return True


class _Discarded(Exception):
    pass


def generation_fail(*, generation_id, message: str, error_type: str = ErrorType.PROVIDER_ERROR) -> bool:
    with transaction.atomic():
        if not transition(generation_id=generation_id, to=Status.FAILED, error=message, error_type=str(error_type)):
            return False
        generation = Generation.objects.select_related("user").get(pk=generation_id)
        credits_refund_generation(generation=generation, reason=f"Refund: generation failed ({message[:200]})")
    return True


def generation_cancel(*, generation: Generation) -> None:
    with transaction.atomic():
        if not transition(generation_id=generation.pk, to=Status.CANCELLED, error="Cancelled by the user"):
            raise Conflict(f"Generation is already {Generation.objects.get(pk=generation.pk).status}")
        credits_refund_generation(generation=generation, reason="Refund: generation cancelled")
