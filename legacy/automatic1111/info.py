"""A1111's lists and state: ``sd-models``, ``samplers``, ``schedulers``, ``loras``, ``options``,
``progress`` and ``scripts``, over the catalog, the user's LoRAs and generations."""

import base64
import io

from django.http import JsonResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from PIL import Image
from rest_framework.response import Response

from accounts.services import user_client_option_set
from catalog.models import ModelKind
from catalog.selectors import model_list
from core.errors import ValidationFailed
from generation.selectors import generation_latest_preview
from generation.services import generation_model_resolve
from legacy.automatic1111.common import (
    CHECKPOINT_OPTION,
    CLIENT,
    A1111View,
    checkpoint_model,
    current_generation,
    model_hash,
    model_named,
    running_generations,
)
from legacy.schema import (
    A1111_ERRORS,
    A1111_LORA,
    A1111_OPTIONS,
    A1111_PROGRESS,
    A1111_SAMPLER,
    A1111_SCHEDULER,
    A1111_SCRIPTS,
    A1111_SD_MODEL,
    A1111_TAG,
    NULL_ANSWER,
)
from training.selectors import lora_list

# A1111's own names, so that clients find the ones they send by default ("Euler a", "automatic").
# The models here choose their own sampler and schedule: a name is accepted and ignored.
SAMPLERS = ("DPM++ 2M", "DPM++ SDE", "DPM++ 2M SDE", "Euler a", "Euler", "LMS", "Heun", "DPM2", "DDIM", "UniPC")
SCHEDULERS = (
    ("automatic", "Automatic"),
    ("uniform", "Uniform"),
    ("karras", "Karras"),
    ("exponential", "Exponential"),
    ("sgm_uniform", "SGM Uniform"),
)


@extend_schema(
    tags=[A1111_TAG],
    summary="Models, as A1111 checkpoints",
    responses={200: A1111_SD_MODEL.__class__(many=True), **A1111_ERRORS},
)
class SdModelsView(A1111View):
    """Atelier's text-to-image models as A1111 checkpoints; the title is the model's id."""

    def get(self, request):
        return Response(
            [
                {
                    "title": model.pk,
                    "model_name": model.name,
                    "hash": model_hash(model)[:10],
                    "sha256": model_hash(model),
                    "filename": model.pk,
                    "config": None,
                }
                for model in model_list(kind=ModelKind.TEXT_TO_IMAGE)
            ]
        )


@extend_schema(
    tags=[A1111_TAG],
    summary="Sampler names (accepted and ignored)",
    responses={200: A1111_SAMPLER.__class__(many=True), **A1111_ERRORS},
)
class SamplersView(A1111View):
    def get(self, request):
        return Response([{"name": name, "aliases": [], "options": {}} for name in SAMPLERS])


@extend_schema(
    tags=[A1111_TAG],
    summary="Scheduler names (accepted and ignored)",
    responses={200: A1111_SCHEDULER.__class__(many=True), **A1111_ERRORS},
)
class SchedulersView(A1111View):
    def get(self, request):
        return Response(
            [
                {"name": name, "label": label, "aliases": None, "default_rho": -1, "need_inner_model": False}
                for name, label in SCHEDULERS
            ]
        )


@extend_schema(
    tags=[A1111_TAG],
    summary="Your LoRAs; <lora:name:weight> in a prompt applies one",
    responses={200: A1111_LORA.__class__(many=True), **A1111_ERRORS},
)
class LorasView(A1111View):
    """The caller's trained LoRAs; ``<lora:name:weight>`` in a prompt applies one."""

    def get(self, request):
        return Response(
            [
                {
                    "name": lora.name,
                    "alias": lora.name,
                    "path": str(lora.pk),
                    "metadata": {
                        "trigger_word": lora.trigger_word,
                        "base_model": lora.base_model,
                        "provider": lora.provider,
                        "created_at": lora.created_at.isoformat(),
                    },
                }
                for lora in lora_list(user=request.user)
            ]
        )


class OptionsView(A1111View):
    """``sd_model_checkpoint`` is the caller's own; A1111's other options are accepted and ignored."""

    @extend_schema(tags=[A1111_TAG], summary="Your sd_model_checkpoint", responses={200: A1111_OPTIONS, **A1111_ERRORS})
    def get(self, request):
        model = checkpoint_model(user=request.user, override=None) or generation_model_resolve(ref=None)
        return Response({CHECKPOINT_OPTION: model.pk, "sd_checkpoint_hash": model_hash(model), "samples_format": "png"})

    @extend_schema(
        tags=[A1111_TAG],
        summary="Choose your sd_model_checkpoint (other options are ignored); answers null",
        request=OpenApiTypes.OBJECT,
        responses={200: NULL_ANSWER, **A1111_ERRORS},
    )
    def post(self, request):
        name = request.data.get(CHECKPOINT_OPTION)
        if name is not None:
            if not isinstance(name, str):
                raise ValidationFailed(details={CHECKPOINT_OPTION: ["Must be a string."]})
            model = model_named(name)
            user_client_option_set(user=request.user, client=CLIENT, name=CHECKPOINT_OPTION, value=model.pk)
        # A1111 answers null (DRF would send an empty body, which its clients cannot parse).
        return JsonResponse(None, safe=False)


def _current_image(generation) -> str | None:
    """The job's newest live preview as base64 PNG (A1111's ``current_image``), or None."""
    preview = generation_latest_preview(generation.pk)
    if preview is None:
        return None
    try:
        with Image.open(io.BytesIO(preview.data)) as image:
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
    except (OSError, ValueError):
        return None
    return base64.b64encode(buffer.getvalue()).decode()


@extend_schema(
    tags=[A1111_TAG],
    summary="Your current job: progress, time left, newest live preview",
    responses={200: A1111_PROGRESS, **A1111_ERRORS},
)
class ProgressView(A1111View):
    """The caller's current job (``current_generation``): its progress, an estimate of the time
    left and its newest live preview (``skip_current_image=true`` leaves it out)."""

    def get(self, request):
        generation = current_generation(user=request.user)
        if generation is None:
            state = {"skipped": False, "interrupted": False, "stopping": False, "job": "", "job_count": 0}
            state.update(job_timestamp="0", job_no=0, sampling_step=0, sampling_steps=0)
            return Response({"progress": 0, "eta_relative": 0, "state": state, "current_image": None, "textinfo": None})
        progress = generation.progress / 100
        eta = 0.0
        if generation.started_at is not None and progress > 0:
            elapsed = (timezone.now() - generation.started_at).total_seconds()
            eta = max(elapsed / progress - elapsed, 0.0)
        steps = (generation.params or {}).get("num_inference_steps") or 100
        state = {
            "skipped": False,
            "interrupted": False,
            "stopping": False,
            "job": str(generation.pk),
            "job_count": running_generations(user=request.user).count(),
            "job_timestamp": generation.created_at.strftime("%Y%m%d%H%M%S"),
            "job_no": 0,
            "sampling_step": round(progress * steps),
            "sampling_steps": steps,
        }
        skip_image = request.query_params.get("skip_current_image", "").lower() in ("true", "1")
        return Response(
            {
                "progress": progress,
                "eta_relative": round(eta, 3),
                "state": state,
                "current_image": None if skip_image else _current_image(generation),
                "textinfo": generation.status,
            }
        )


@extend_schema(tags=[A1111_TAG], summary="A1111 scripts (none here)", responses={200: A1111_SCRIPTS, **A1111_ERRORS})
class ScriptsView(A1111View):
    """No A1111 scripts or extensions here (``webuiapi`` asks when it starts)."""

    def get(self, request):
        return Response({"txt2img": [], "img2img": []})
