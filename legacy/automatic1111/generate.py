"""``POST /sdapi/v1/txt2img`` and ``/img2img``: A1111's request mapped onto ``generation_submit``
(waiting), answered with the images as base64 PNG, the parameters echoed and the info string.

``sampler_name``, ``scheduler`` and A1111's other knobs (hires fix, restore faces, scripts…) are
accepted and ignored; ``steps``, ``cfg_scale`` and ``denoising_strength`` reach models that take
them. ``<lora:name:weight>`` in the prompt applies one of the caller's trained LoRAs.
"""

import base64
import binascii
import json
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from catalog.models import AIModel, ModelKind
from catalog.selectors import model_list
from core.errors import ProviderUnavailable, ValidationFailed
from generation.models import Api
from generation.services import Submitted, generation_model_resolve
from legacy.automatic1111.common import A1111View, checkpoint_model, model_hash
from legacy.schema import A1111_GENERATION_ERRORS, A1111_IMAGES, A1111_TAG
from legacy.sync import submit_and_wait
from training.selectors import lora_list

# ``<lora:name>`` or ``<lora:name:weight>`` (A1111 allows more fields after the weight).
LORA_TAG = re.compile(r"<lora:([^:>]+)(?::([^:>]*))?(?::[^>]*)?>", re.IGNORECASE)

# The canonical parameter each A1111 knob becomes, sent only to models that take it.
KNOBS = {"steps": "num_inference_steps", "cfg_scale": "guidance_scale", "denoising_strength": "strength"}


class Txt2ImgSerializer(serializers.Serializer):
    """A1111's txt2img body, as far as Atelier uses it; its other keys are ignored."""

    prompt = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="")
    negative_prompt = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="")
    width = serializers.IntegerField(required=False, default=512)
    height = serializers.IntegerField(required=False, default=512)
    steps = serializers.IntegerField(required=False, allow_null=True)
    cfg_scale = serializers.FloatField(required=False, allow_null=True)
    seed = serializers.IntegerField(required=False, allow_null=True, default=-1)
    batch_size = serializers.IntegerField(required=False, default=1, min_value=1, max_value=100)
    n_iter = serializers.IntegerField(required=False, default=1, min_value=1, max_value=100)
    sampler_name = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    scheduler = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    override_settings = serializers.DictField(required=False, allow_null=True, default=dict)

    def validate_override_settings(self, value):
        checkpoint = (value or {}).get("sd_model_checkpoint")
        if checkpoint is not None and not isinstance(checkpoint, str):
            raise serializers.ValidationError("sd_model_checkpoint must be a string.")
        return value or {}


class Img2ImgSerializer(Txt2ImgSerializer):
    init_images = serializers.ListField(child=serializers.CharField(), min_length=1)
    mask = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    denoising_strength = serializers.FloatField(required=False, allow_null=True, default=0.75)


def _loras_of(*, user, prompt: str) -> tuple[str, list[dict]]:
    """The prompt without its ``<lora:…>`` tags, and the caller's LoRAs they name as the
    canonical ``loras`` (by name, in any case, or by id)."""
    tags = LORA_TAG.findall(prompt)
    if not tags:
        return prompt, []
    mine = list(lora_list(user=user))
    loras = []
    for name, weight in tags:
        name = name.strip()
        lora = next((row for row in mine if row.name.lower() == name.lower() or str(row.pk) == name), None)
        if lora is None:
            raise ValidationFailed(
                "Unknown LoRA", details={"prompt": [f"No LoRA of yours is called '{name}': see /sdapi/v1/loras."]}
            )
        try:
            scale = float(weight) if weight and weight.strip() else 1.0
        except ValueError:
            raise ValidationFailed(details={"prompt": [f"The weight of LoRA '{name}' is not a number."]}) from None
        loras.append({"path": str(lora.pk), "scale": scale})
    stripped = re.sub(r"\s{2,}", " ", LORA_TAG.sub(" ", prompt)).strip(" ,")
    return stripped, loras


def _decoded(value: str, *, field: str) -> bytes:
    """Base64 image data, plain or as a ``data:`` URL."""
    if value.startswith("data:"):
        value = value.partition(",")[2]
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("Invalid image", details={field: ["Not base64 image data."]}) from None


def _canonical(request, payload: dict, model: AIModel) -> dict:
    """The canonical parameters of A1111's request, for ``model``."""
    prompt, loras = _loras_of(user=request.user, prompt=payload["prompt"] or "")
    data = {
        "model": model.pk,
        "prompt": prompt,
        "negative_prompt": payload["negative_prompt"] or "",
        "width": payload["width"],
        "height": payload["height"],
        "num_images": payload["batch_size"] * payload["n_iter"],
        "format": "png",
    }
    # A1111's -1 (or any negative seed) asks for a random one: no seed.
    if payload["seed"] is not None and payload["seed"] >= 0:
        data["seed"] = payload["seed"]
    for knob, name in KNOBS.items():
        if payload.get(knob) is not None and name in model.supports:
            data[name] = payload[knob]
    if loras:
        data["loras"] = loras
    return data


def _answer(request, submitted: Submitted, model: AIModel) -> Response:
    generation = submitted.generation
    if not submitted.finished:
        raise ProviderUnavailable(
            "The image is still being generated",
            details=f"Follow it at {reverse('generation-detail', args=[generation.pk])}",
            generation_id=str(generation.pk),
        )
    # An interrupted (cancelled) job has none: A1111 answers it with what it made, and so here.
    assets = list(generation.assets.all())
    images = []
    for asset in assets:
        with asset.file.open("rb") as handle:
            images.append(base64.b64encode(handle.read()).decode())
    seeds = [asset.seed if asset.seed is not None else generation.seed for asset in assets]
    params = generation.params or {}
    info = {
        "prompt": generation.prompt,
        "all_prompts": [generation.final_prompt or generation.prompt] * len(assets),
        "negative_prompt": generation.negative_prompt,
        "all_negative_prompts": [generation.negative_prompt] * len(assets),
        "seed": seeds[0] if seeds else generation.seed,
        "all_seeds": seeds,
        "subseed": -1,
        "all_subseeds": [-1] * len(assets),
        "width": assets[0].width if assets else generation.width,
        "height": assets[0].height if assets else generation.height,
        "steps": params.get("num_inference_steps"),
        "cfg_scale": params.get("guidance_scale"),
        "denoising_strength": params.get("strength"),
        "batch_size": len(assets),
        "sd_model_name": model.pk,
        "sd_model_hash": model_hash(model)[:10],
        "job_timestamp": generation.created_at.strftime("%Y%m%d%H%M%S"),
        "generation_id": str(generation.pk),
        "credits_used": generation.cost,
        "credits_remaining": submitted.credits_remaining,
    }
    parameters = {key: value for key, value in request.data.items() if key not in ("init_images", "mask")}
    if "init_images" in request.data:
        # A1111 leaves the input images out of its echo unless asked (include_init_images).
        parameters.update(init_images=None, mask=None)
    return Response({"images": images, "parameters": parameters, "info": json.dumps(info)})


@extend_schema(
    tags=[A1111_TAG],
    summary="Text to image, waiting for the images",
    request=Txt2ImgSerializer,
    responses={200: A1111_IMAGES, **A1111_GENERATION_ERRORS},
)
class Txt2ImgView(A1111View):
    ratelimit_group = None  # counted by generation_submit

    def post(self, request):
        payload = Txt2ImgSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        values = payload.validated_data
        override = values["override_settings"].get("sd_model_checkpoint")
        model = checkpoint_model(user=request.user, override=override) or generation_model_resolve(ref=None)
        submitted = submit_and_wait(
            request, _canonical(request, values, model), api=Api.AUTOMATIC1111, answer_cancelled=True
        )
        return _answer(request, submitted, model)


def _img2img_model(*, chosen: AIModel | None, masked: bool) -> AIModel:
    """The model for an img2img request: the chosen checkpoint if it is of the kind asked for
    (inpainting with a mask, image-to-image without), else one of that kind, from the chosen
    (or default) model's provider when it has one."""
    kind = ModelKind.INPAINTING if masked else ModelKind.IMAGE_TO_IMAGE
    if chosen is not None and chosen.kind == kind:
        return chosen
    provider = (chosen or generation_model_resolve(ref=None)).provider
    candidates = sorted(model_list(kind=kind), key=lambda model: model.provider != provider)
    if not candidates:
        raise ValidationFailed(details={"init_images": [f"No {kind} model is available."]})
    return candidates[0]


@extend_schema(
    tags=[A1111_TAG],
    summary="Image to image (with a mask: inpainting), waiting for the images",
    request=Img2ImgSerializer,
    responses={200: A1111_IMAGES, **A1111_GENERATION_ERRORS},
)
class Img2ImgView(A1111View):
    ratelimit_group = None  # counted by generation_submit

    def post(self, request):
        payload = Img2ImgSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        values = payload.validated_data
        override = values["override_settings"].get("sd_model_checkpoint")
        masked = bool(values.get("mask"))
        model = _img2img_model(chosen=checkpoint_model(user=request.user, override=override), masked=masked)
        data = _canonical(request, values, model)
        # A1111 takes several init images; the first is the one the models here take.
        image = _decoded(values["init_images"][0], field="init_images")
        data["image"] = SimpleUploadedFile("init.png", image)
        if masked:
            data["mask"] = SimpleUploadedFile("mask.png", _decoded(values["mask"], field="mask"))
        submitted = submit_and_wait(request, data, api=Api.AUTOMATIC1111, answer_cancelled=True)
        return _answer(request, submitted, model)
