"""A worker's side of a generation: claim it, have the provider make it, follow queued jobs."""

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from catalog.selectors import workflow_template_get
from catalog.workflows import SLOT_TYPES
from core.errors import ApplicationError, ErrorType, ProviderTransient
from generation import providers
from generation.inputs.kinds import IMAGE_KINDS
from generation.inputs.selectors import generation_input_data
from generation.loras import local_adapters
from generation.models import Generation, Status
from generation.previews import PreviewSink
from generation.provider_calls import provider_call_timed
from generation.providers import ProviderJob, Reporter, Submission, Workflow
from generation.providers.comfyui import workflow_name
from generation.services.dispatch import backoff_seconds, generation_dispatch, generation_schedule_poll
from generation.services.events import (
    generation_record_log,
    generation_record_progress,
    generation_record_queue_position,
    generation_record_step,
)
from generation.services.lifecycle import generation_complete, generation_fail
from generation.state import transition

logger = logging.getLogger(__name__)


def _job(generation: Generation, *, needs: frozenset[str] = frozenset(), inputs: bool = True) -> ProviderJob:
    """Everything the provider needs about the generation, as plain data: adapters read no models.

    ``needs`` names what only some providers use (Provider.needs), resolved at submit only.
    """
    # The inputs stored at creation: a retry sends the provider the very same pixels. Text to
    # image has none, and skips the query; a poll sends none.
    data = generation_input_data(generation=generation) if inputs and generation.model.kind in IMAGE_KINDS else {}
    defaults = dict(generation.model.defaults or {})
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
        image=data.get("image"),
        mask=data.get("mask"),
        defaults=defaults,
        workflow=_workflow({**defaults, **generation.params}) if "workflow" in needs else None,
        style_adapters=_style_adapters(generation) if "style_adapters" in needs else (),
        previews=generation.previews,
    )


def generation_poll_job(generation: Generation) -> ProviderJob:
    """The job a poll or a webhook update hands the provider: the generation's facts, no inputs."""
    return _job(generation, inputs=False)


def _workflow(params: dict) -> Workflow | None:
    """The ComfyUI workflow template the params name, as plain data; None when the catalog has none."""

    template = workflow_template_get(name=workflow_name(params))
    if template is None:
        return None
    return Workflow(name=template.name, graph=template.graph, slots=template.slots, slot_types=dict(SLOT_TYPES))


def _style_adapters(generation: Generation) -> tuple:
    """The trained style adapters (local LoRAs) the generation names, with their scales."""
    if not generation.params.get("loras"):
        return ()
    return tuple(local_adapters(generation_id=generation.pk, loras=generation.params["loras"]))


def _record_request_id(*, generation_id, request_id: str) -> None:
    Generation.objects.filter(pk=generation_id).update(provider_request_id=request_id)


def generation_reporter(generation_id, *, generation: Generation | None = None) -> Reporter:
    """Records what a provider reports about the generation as it works: progress, log lines,
    its place in the provider's own queue, its upstream id as soon as the provider has one;
    and publishes its in-progress pictures (generation/previews.py)."""
    return Reporter(
        on_progress=lambda percent: generation_record_progress(generation_id=generation_id, percent=percent),
        on_log=lambda message: generation_record_log(generation_id=generation_id, message=message),
        on_queue_position=lambda position: generation_record_queue_position(
            generation_id=generation_id, position=position
        ),
        on_step=lambda percent, message: generation_record_step(
            generation_id=generation_id, percent=percent, message=message
        ),
        on_request_id=lambda request_id: _record_request_id(generation_id=generation_id, request_id=request_id),
        on_preview=PreviewSink(generation_id, generation=generation),
    )


def generation_run(*, generation_id) -> None:
    """Claims the generation and has its provider make it. Safe to call twice: only one claims.

    Inline providers answer with the outputs. Queued ones answer with their request id and the
    worker returns at once; poll tasks (or the provider's webhook) follow the job from there.
    """
    generation = Generation.objects.select_related("model", "user").filter(pk=generation_id).first()
    if generation is None or generation.status != Status.IN_QUEUE:
        return
    # The claim (compare-and-swap on the status) writes its log line and events in one commit.
    attempt = generation.attempts + 1
    if not transition(
        generation_id=generation_id, to=Status.PROCESSING, log=f"Started on {generation.provider} (attempt {attempt})"
    ):
        return
    generation.status, generation.attempts = Status.PROCESSING, attempt
    reporter = generation_reporter(generation_id, generation=generation)
    try:
        provider = providers.get(generation.provider)
        with provider_call_timed(provider=generation.provider):
            submission = provider.submit(_job(generation, needs=provider.needs), reporter=reporter)
        _handle(generation=generation, submission=submission, attempt=0)
    except ProviderTransient as exc:
        _retry_or_fail(generation=generation, error=exc)
    except SoftTimeLimitExceeded:
        generation_fail(
            generation_id=generation_id,
            message=f"The provider did not finish within {generation.provider}'s time limit",
            error_type=ErrorType.PROVIDER_UNAVAILABLE,
        )
    except ApplicationError as exc:
        generation_fail(generation_id=generation_id, message=exc.message, error_type=exc.type, details=exc.details)
    except Exception as exc:  # noqa: BLE001 - logged with its traceback by _fail_unexpected
        _fail_unexpected(generation=generation, exc=exc)


def generation_poll(*, generation_id, attempt: int) -> None:
    """Asks the provider how a queued job is doing; schedules the next poll with backoff."""
    generation = Generation.objects.select_related("model", "user").filter(pk=generation_id).first()
    if generation is None or generation.status != Status.PROCESSING or not generation.provider_request_id:
        return
    try:
        with provider_call_timed(provider=generation.provider):
            submission = providers.get(generation.provider).poll(
                generation.provider_request_id,
                job=generation_poll_job(generation),
                reporter=generation_reporter(generation_id, generation=generation),
            )
        _handle(generation=generation, submission=submission, attempt=attempt + 1)
    except ProviderTransient as exc:
        logger.info("Transient error polling %s: %s", generation_id, exc.message)
        generation_schedule_poll(generation_id=generation_id, provider=generation.provider, attempt=attempt + 1)
    except ApplicationError as exc:
        generation_fail(generation_id=generation_id, message=exc.message, error_type=exc.type, details=exc.details)
    except Exception as exc:  # noqa: BLE001 - logged with its traceback by _fail_unexpected
        _fail_unexpected(generation=generation, exc=exc)


def _handle(*, generation: Generation, submission: Submission, attempt: int) -> None:
    if submission.finished:
        generation_complete(generation=generation, outputs=submission.outputs)
        return
    if submission.request_id and submission.request_id != generation.provider_request_id:
        _record_request_id(generation_id=generation.pk, request_id=submission.request_id)
        generation.provider_request_id = submission.request_id
    generation_schedule_poll(
        generation_id=generation.pk, provider=generation.provider, attempt=attempt, at_least=submission.poll_after
    )


def _retry_or_fail(*, generation: Generation, error: ProviderTransient) -> None:
    if generation.attempts >= settings.ATELIER_MAX_ATTEMPTS:
        generation_fail(
            generation_id=generation.pk,
            message=f"{error.message} (gave up after {generation.attempts} attempts)",
            error_type=error.type,
        )
        return
    delay = backoff_seconds(
        generation.attempts,
        base=settings.ATELIER_RETRY_BACKOFF_SECONDS,
        cap=settings.ATELIER_RETRY_BACKOFF_MAX_SECONDS,
    )
    generation_record_log(generation_id=generation.pk, message=f"{error.message}; retrying in {delay:.1f} s")
    if transition(generation_id=generation.pk, to=Status.IN_QUEUE):
        generation_dispatch(generation_id=generation.pk, countdown=delay)


def _fail_unexpected(*, generation: Generation, exc: Exception) -> None:
    # Whatever went wrong, the user gets a failed generation and their credits back rather
    # than a job that stays "processing".
    logger.exception("Generation %s failed on %s", generation.pk, generation.provider)
    generation_fail(
        generation_id=generation.pk,
        message=f"The provider failed to generate the image: {exc}",
        error_type=ErrorType.PROVIDER_ERROR,
    )
