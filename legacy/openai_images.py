"""OpenAI's Images API at ``/v1``, for the clients that already speak it (the official SDKs):
``POST /v1/images/generations``, ``/v1/images/edits`` and ``/v1/images/variations`` wait for
their images through ``submit_and_wait``, as the synchronous seed routes do, and
``GET /v1/models[/{id}]`` lists the catalog. With ``stream: true`` the image routes answer
OpenAI's server-sent events instead (``legacy.openai_stream``). Authentication is the API key
(``Authorization: Bearer``); errors are OpenAI's ``{"error": {message, type, param, code}}``.

These routes are documented in the compatible APIs' own OpenAPI document (``legacy.schema``,
``/api/schema/compat/``), not in /api/schema/, which promises the error envelope on every
operation.
"""

import base64
import re

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import AIModel, ModelKind
from catalog.selectors import model_get, model_list
from core.errors import ErrorType, NotFound, ProviderUnavailable, ValidationFailed
from core.exception_handler import envelope_exception_handler
from gallery.serializers import asset_file_url
from generation.inputs.kinds import IMAGE_KINDS
from generation.models import Api
from legacy.openai_stream import images_stream
from legacy.schema import (
    OPENAI_ERRORS,
    OPENAI_IMAGES,
    OPENAI_MODEL,
    OPENAI_MODELS,
    OPENAI_STREAM,
    OPENAI_TAG,
    compat_schema,
)
from legacy.sync import submit_and_wait

# OpenAI's (type, code) for each of the project's error types; any other is an
# ``invalid_request_error`` below 500 and a ``server_error`` from 500 on, coded by its type.
_OPENAI_ERRORS = {
    ErrorType.VALIDATION_ERROR: ("invalid_request_error", "invalid_value"),
    ErrorType.AUTHENTICATION_REQUIRED: ("invalid_request_error", "invalid_api_key"),
    ErrorType.INSUFFICIENT_CREDITS: ("insufficient_quota", "insufficient_quota"),
    ErrorType.RATE_LIMITED: ("requests", "rate_limit_exceeded"),
    ErrorType.QUOTA_EXCEEDED: ("requests", "rate_limit_exceeded"),
}
# OpenAI's names of the canonical parameters, for an error's ``param``.
_PARAM_NAMES = {
    "num_images": "n",
    "width": "size",
    "height": "size",
    "image_size": "size",
    "format": "output_format",
    "art_style": "style",
}
# OpenAI's options of generations and edits, and their canonical names.
_SHARED_OPTIONS = (
    ("quality", "quality"),
    ("output_format", "format"),
    ("background", "background"),
    ("output_compression", "output_compression"),
)
_BACKGROUND_HELP = "transparent: GPT Image only, in png or webp (a 400 otherwise); opaque and auto: any model."
_COMPRESSION_HELP = "JPEG/WebP quality 0-100 (lower: smaller), GPT Image's own or Atelier's encoder's; png ignores it."
# Headers a client needs to act on an error.
_KEPT_HEADERS = ("Retry-After", "WWW-Authenticate")


def _first_problem(details) -> tuple[str | None, str | None]:
    """(field, first message) of an error's details, or (None, the text) when it names no field."""
    if isinstance(details, dict):
        for field, value in details.items():
            return field, _first_problem(value)[1]
        return None, None
    if isinstance(details, list | tuple):
        return _first_problem(details[0]) if details else (None, None)
    return None, str(details) if details not in (None, "") else None


def openai_error(exc, context) -> Response | None:
    """Any error of these routes in OpenAI's shape. The project's handler decides what the error
    is (status, type, message, the fields at fault); this says it in OpenAI's words."""
    response = envelope_exception_handler(exc, context)
    if response is None:
        return None
    body, status = response.data, response.status_code
    error_type = body.get("type")
    kind, code = _OPENAI_ERRORS.get(
        error_type, ("server_error" if status >= 500 else "invalid_request_error", str(error_type))
    )
    field, problem = _first_problem(body.get("details"))
    param = _PARAM_NAMES.get(field, field)
    if status == 404:
        code = "model_not_found" if param == "model" else "not_found"
    message = body.get("error") or "Error"
    if problem:
        message = f"{message}: {param}: {problem}" if param else f"{message}: {problem}"
    headers = {name: response[name] for name in _KEPT_HEADERS if name in response}
    return Response(
        {"error": {"message": message, "type": kind, "param": param, "code": code}}, status=status, headers=headers
    )


def openai_error_body(exc) -> dict:
    """An error's ``{"error": {…}}`` in OpenAI's shape, for a stream's ``error`` event."""
    return openai_error(exc, {}).data


class _SizeField(serializers.CharField):
    """``WIDTHxHEIGHT`` as (width, height), or None for ``auto`` (the model's default)."""

    PATTERN = re.compile(r"^(\d{1,5})x(\d{1,5})$")

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip().lower()
        if value == "auto":
            return None
        match = self.PATTERN.match(value)
        if match is None:
            raise serializers.ValidationError("Use WIDTHxHEIGHT, such as 1024x1024, or auto.")
        return int(match[1]), int(match[2])


class _ImagesInput(serializers.Serializer):
    """What the three image routes share. The canonical validation (``POST /api/generate``'s)
    then checks the values: the model, ``n`` against its limit, the size against its range."""

    model = serializers.CharField(required=False, allow_blank=True)
    n = serializers.IntegerField(required=False, allow_null=True)
    size = _SizeField(required=False, allow_null=True)
    response_format = serializers.ChoiceField(choices=["url", "b64_json"], required=False, allow_null=True)
    # OpenAI's end-user identifier for abuse monitoring: kept on the generation for operators.
    user = serializers.CharField(required=False, allow_blank=True, max_length=256)


class _GenerationsInput(_ImagesInput):
    prompt = serializers.CharField(max_length=32000)
    quality = serializers.CharField(required=False, allow_null=True)
    style = serializers.ChoiceField(choices=["vivid", "natural"], required=False, allow_null=True)
    output_format = serializers.ChoiceField(choices=["png", "jpeg", "webp"], required=False, allow_null=True)
    # Canonical parameters too: transparent only from GPT Image; compression is JPEG/WebP quality.
    background = serializers.ChoiceField(
        choices=["transparent", "opaque", "auto"], required=False, allow_null=True, help_text=_BACKGROUND_HELP
    )
    output_compression = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=100, help_text=_COMPRESSION_HELP
    )
    moderation = serializers.ChoiceField(choices=["low", "auto"], required=False, allow_null=True)
    stream = serializers.BooleanField(required=False, default=False)
    partial_images = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=3)


class _EditsInput(_ImagesInput):
    prompt = serializers.CharField(required=False, allow_blank=True, max_length=32000)
    mask = serializers.FileField(required=False)
    quality = serializers.CharField(required=False, allow_null=True)
    output_format = serializers.ChoiceField(choices=["png", "jpeg", "webp"], required=False, allow_null=True)
    background = serializers.ChoiceField(
        choices=["transparent", "opaque", "auto"], required=False, allow_null=True, help_text=_BACKGROUND_HELP
    )
    output_compression = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=100, help_text=_COMPRESSION_HELP
    )
    input_fidelity = serializers.ChoiceField(choices=["high", "low"], required=False, allow_null=True)
    stream = serializers.BooleanField(required=False, default=False)
    partial_images = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=3)


class _VariationsDocument(_ImagesInput):
    """The multipart body of a variation, as documented."""

    image = serializers.FileField(help_text="The image (PNG, JPEG, WebP)")


class _EditsDocument(_EditsInput):
    """The multipart body of an edit, as documented: ``image`` (or several as ``image[]``; the
    first is used) beside the fields."""

    image = serializers.ListField(child=serializers.FileField(), help_text="One image or several (image[])")


def _canonical(data: dict, *, model: str) -> dict:
    """The canonical generate parameters of what the routes share."""
    canonical = {"model": model}
    if data.get("n") is not None:
        canonical["num_images"] = data["n"]
    if data.get("size"):
        canonical["width"], canonical["height"] = data["size"]
    return canonical


def _input_images(request) -> list:
    """The uploaded ``image`` files: the SDK sends several as ``image[]``."""
    images = request.FILES.getlist("image") + request.FILES.getlist("image[]")
    if not images:
        raise ValidationFailed(details={"image": ["Send the image as a file."]})
    return images


def _image_model(ref: str, *, kind: str) -> AIModel | str:
    """The model named (checked to take an input image), or the catalog's first available one
    of ``kind``. An unknown name is left for the canonical validation to refuse."""
    if ref:
        model = model_get(ref=ref)
        if model is not None and model.kind not in IMAGE_KINDS:
            raise ValidationFailed(details={"model": [f"'{ref}' takes no input image: name an image-to-image model."]})
        return ref
    available = model_list(kind=kind, available=True)
    if not available:
        raise ValidationFailed(details={"model": [f"No {kind} model is available: name one."]})
    return available[0].pk


def _images_answer(request, data: dict, canonical: dict) -> Response:
    """Submits the generation, waits for it and answers its images as OpenAI does."""
    submitted = submit_and_wait(request, canonical, api=Api.OPENAI, end_user=data.get("user") or "")
    generation = submitted.generation
    if not submitted.finished:
        # OpenAI's clients cannot follow a job: say where it is, for a person to look.
        raise ProviderUnavailable(
            "The images were not ready in time",
            details=f"Generation {generation.pk} is still running: GET /api/generate/{generation.pk} follows it.",
        )
    revised = (generation.params or {}).get("revised_prompt") or generation.final_prompt or generation.prompt
    items = []
    for asset in generation.assets.all():
        if data.get("response_format") == "b64_json":
            with asset.file.open("rb") as handle:
                item = {"b64_json": base64.b64encode(handle.read()).decode()}
        else:
            item = {"url": asset_file_url(asset, request)}
        items.append({**item, "revised_prompt": revised})
    return Response(
        {
            "created": int(generation.created_at.timestamp()),
            "data": items,
            "output_format": generation.output_format,
            "size": f"{generation.width}x{generation.height}",
        }
    )


class _OpenAIView(APIView):
    renderer_classes = [JSONRenderer]
    schema = compat_schema()

    def get_exception_handler(self):
        return openai_error


@extend_schema(
    tags=[OPENAI_TAG],
    summary="Create images (OpenAI's POST /v1/images/generations)",
    request=_GenerationsInput,
    responses={200: OPENAI_IMAGES, (200, "text/event-stream"): OPENAI_STREAM, **OPENAI_ERRORS},
)
class ImagesGenerationsView(_OpenAIView):
    ratelimit_group = None  # counted by generation_submit

    def post(self, request):
        payload = _GenerationsInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        canonical = _canonical(data, model=data.get("model") or settings.ATELIER_OPENAI_DEFAULT_MODEL)
        canonical["prompt"] = data["prompt"]
        for name, canonical_name in (("style", "style"), *_SHARED_OPTIONS):
            if data.get(name) is not None:
                canonical[canonical_name] = data[name]
        if data["stream"]:
            return images_stream(request, data, canonical, kind="image_generation", error_body=openai_error_body)
        return _images_answer(request, data, canonical)


@extend_schema(
    tags=[OPENAI_TAG],
    summary="Edit an image, with a mask to inpaint (OpenAI's POST /v1/images/edits)",
    request={"multipart/form-data": _EditsDocument},
    responses={200: OPENAI_IMAGES, (200, "text/event-stream"): OPENAI_STREAM, **OPENAI_ERRORS},
)
class ImagesEditsView(_OpenAIView):
    """An image (and a mask) onto an image-to-image or inpainting model. The models here take
    one input image: of several, the first is used."""

    ratelimit_group = None  # counted by generation_submit

    def post(self, request):
        payload = _EditsInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        mask = data.get("mask")
        kind = ModelKind.INPAINTING if mask is not None else ModelKind.IMAGE_TO_IMAGE
        canonical = _canonical(data, model=_image_model(data.get("model", ""), kind=kind))
        canonical.update(prompt=data.get("prompt", ""), image=_input_images(request)[0])
        if mask is not None:
            canonical["mask"] = mask
        for name, canonical_name in _SHARED_OPTIONS:
            if data.get(name) is not None:
                canonical[canonical_name] = data[name]
        if data["stream"]:
            return images_stream(request, data, canonical, kind="image_edit", error_body=openai_error_body)
        return _images_answer(request, data, canonical)


@extend_schema(
    tags=[OPENAI_TAG],
    summary="Variations of an image (OpenAI's POST /v1/images/variations)",
    request={"multipart/form-data": _VariationsDocument},
    responses={200: OPENAI_IMAGES, **OPENAI_ERRORS},
)
class ImagesVariationsView(_OpenAIView):
    """An image onto an image-to-image model, with no prompt."""

    ratelimit_group = None  # counted by generation_submit

    def post(self, request):
        payload = _ImagesInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        canonical = _canonical(data, model=_image_model(data.get("model", ""), kind=ModelKind.IMAGE_TO_IMAGE))
        canonical.update(prompt="", image=_input_images(request)[0])
        return _images_answer(request, data, canonical)


def _model_object(model: AIModel) -> dict:
    return {"id": model.pk, "object": "model", "created": int(model.created_at.timestamp()), "owned_by": model.provider}


@extend_schema(
    tags=[OPENAI_TAG],
    summary="The catalog's models (OpenAI's GET /v1/models)",
    operation_id="openai_models_list",
    responses={200: OPENAI_MODELS, 401: OPENAI_ERRORS[401], 429: OPENAI_ERRORS[429]},
)
class ModelsView(_OpenAIView):
    def get(self, request):
        return Response({"object": "list", "data": [_model_object(model) for model in model_list()]})


@extend_schema(
    tags=[OPENAI_TAG],
    summary="One model (OpenAI's GET /v1/models/{id}); ids contain slashes",
    operation_id="openai_models_retrieve",
    responses={200: OPENAI_MODEL, 401: OPENAI_ERRORS[401], 404: OPENAI_ERRORS[404], 429: OPENAI_ERRORS[429]},
)
class ModelView(_OpenAIView):
    def get(self, request, model_id: str):
        model = model_get(ref=model_id)
        if model is None:
            raise NotFound(
                f"The model '{model_id}' does not exist", details={"model": [f"Unknown model '{model_id}'."]}
            )
        return Response(_model_object(model))


urlpatterns = [
    path("images/generations", ImagesGenerationsView.as_view(), name="openai-images-generations"),
    path("images/edits", ImagesEditsView.as_view(), name="openai-images-edits"),
    path("images/variations", ImagesVariationsView.as_view(), name="openai-images-variations"),
    path("models", ModelsView.as_view(), name="openai-models"),
    path("models/<path:model_id>", ModelView.as_view(), name="openai-model"),
]
