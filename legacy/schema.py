"""The OpenAPI document of the compatible APIs (OpenAI Images at ``/v1``, AUTOMATIC1111 at
``/sdapi/v1``), served at ``/api/schema/compat/`` with Swagger UI at ``/api/docs/compat/``.

They have a document of their own because their answers, errors included, are OpenAI's and
A1111's, not the envelope that ``/api/schema/`` promises on every operation: the main document
leaves their paths out (``without_compat_apis``), this one keeps only them
(``only_compat_apis``). Their views describe themselves with drf-spectacular's own AutoSchema,
which adds no error envelope, and declare the errors they answer in their own shapes below.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

COMPAT_PREFIXES = ("/v1/", "/sdapi/v1/")
OPENAI_TAG = "OpenAI-compatible Images API"
A1111_TAG = "AUTOMATIC1111-compatible API"


def without_compat_apis(endpoints, **kwargs):
    """Preprocessing hook of ``/api/schema/``: every path but the compatible APIs'."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith(COMPAT_PREFIXES)]


def only_compat_apis(endpoints, **kwargs):
    """Preprocessing hook of ``/api/schema/compat/``: the compatible APIs' paths only."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(COMPAT_PREFIXES)]


COMPAT_SCHEMA_SETTINGS = {
    "TITLE": "Atelier: OpenAI-compatible Images API and AUTOMATIC1111-compatible API",
    "DESCRIPTION": (
        "The image APIs other clients already speak, over Atelier's providers, credits and gallery. "
        "Authenticate with an Atelier API key: Bearer on both, or HTTP Basic with the key as the "
        "password on /sdapi/v1. Atelier's own API is at /api/schema/."
    ),
    "PREPROCESSING_HOOKS": ["legacy.schema.only_compat_apis"],
}


class BasicAPIKeyScheme(OpenApiAuthenticationExtension):
    """HTTP Basic with the API key as the password, as /sdapi/v1 takes it."""

    target_class = "legacy.automatic1111.common.BasicAPIKeyAuthentication"
    name = "basicApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic", "description": "Any user name; the Atelier API key as the password"}


NULL_ANSWER = OpenApiResponse(description="Answers null, as A1111 does")


def compat_schema() -> AutoSchema:
    """The schema class of a compatible route: no envelope added to what it declares."""
    return AutoSchema()


# OpenAI's shapes.

OPENAI_ERROR = inline_serializer(
    "OpenAIError",
    {
        "error": inline_serializer(
            "OpenAIErrorBody",
            {
                "message": serializers.CharField(),
                "type": serializers.CharField(help_text="invalid_request_error, insufficient_quota, requests, …"),
                "param": serializers.CharField(allow_null=True, help_text="The parameter at fault, by OpenAI's name"),
                "code": serializers.CharField(allow_null=True),
            },
        )
    },
)
OPENAI_ERRORS = {
    400: OpenApiResponse(OPENAI_ERROR, description="invalid_request_error, naming the parameter at fault"),
    401: OpenApiResponse(OPENAI_ERROR, description="invalid_api_key"),
    402: OpenApiResponse(OPENAI_ERROR, description="insufficient_quota: not enough credits"),
    404: OpenApiResponse(OPENAI_ERROR, description="model_not_found"),
    429: OpenApiResponse(OPENAI_ERROR, description="rate_limit_exceeded, with Retry-After"),
    502: OpenApiResponse(OPENAI_ERROR, description="server_error: the provider failed (credits refunded)"),
    503: OpenApiResponse(OPENAI_ERROR, description="server_error: provider unavailable, or not done in time"),
}
OPENAI_IMAGES = inline_serializer(
    "OpenAIImagesResponse",
    {
        "created": serializers.IntegerField(),
        "data": inline_serializer(
            "OpenAIImage",
            {
                "url": serializers.URLField(required=False, help_text="With response_format url (the owner's key)"),
                "b64_json": serializers.CharField(required=False, help_text="With response_format b64_json"),
                "revised_prompt": serializers.CharField(),
            },
            many=True,
        ),
        "output_format": serializers.CharField(),
        "size": serializers.CharField(),
    },
)
OPENAI_STREAM = OpenApiResponse(
    OpenApiTypes.STR,
    description=(
        "With stream: true. Events `image_generation.partial_image` (`image_edit.partial_image`): "
        "{type, b64_json, partial_image_index, size, quality, background, output_format, created_at}, "
        "up to partial_images of them; then `image_generation.completed` (`image_edit.completed`): "
        "{type, b64_json, size, quality, background, output_format, created_at, usage} per image; "
        "or `error`: {type: error, error: {message, type, param, code}}."
    ),
)
OPENAI_MODEL = inline_serializer(
    "OpenAIModel",
    {
        "id": serializers.CharField(),
        "object": serializers.CharField(help_text="Always model"),
        "created": serializers.IntegerField(),
        "owned_by": serializers.CharField(help_text="The provider"),
    },
)
OPENAI_MODELS = inline_serializer(
    "OpenAIModelList",
    {"object": serializers.CharField(help_text="Always list"), "data": OPENAI_MODEL.__class__(many=True)},
)


# AUTOMATIC1111's shapes.

A1111_ERROR = inline_serializer(
    "A1111Error",
    {
        "error": serializers.CharField(help_text="The error's type"),
        "detail": serializers.CharField(help_text="What is wrong, in a sentence"),
        "body": serializers.CharField(),
        "errors": serializers.JSONField(help_text="Per field, named as sent; empty when none"),
        "request_id": serializers.CharField(allow_null=True),
    },
)
A1111_ERRORS = {
    401: OpenApiResponse(A1111_ERROR, description="No valid API key (Bearer, or Basic with the key as password)"),
    422: OpenApiResponse(A1111_ERROR, description="Invalid input"),
    429: OpenApiResponse(A1111_ERROR, description="Rate limit or quota reached, with Retry-After"),
}
A1111_GENERATION_ERRORS = {
    **A1111_ERRORS,
    402: OpenApiResponse(A1111_ERROR, description="Not enough credits"),
    502: OpenApiResponse(A1111_ERROR, description="The provider failed (credits refunded)"),
    503: OpenApiResponse(A1111_ERROR, description="Provider unavailable, or still running when the wait ended"),
}
A1111_IMAGES = inline_serializer(
    "A1111ImagesResponse",
    {
        "images": serializers.ListField(child=serializers.CharField(), help_text="Base64 PNG; none when interrupted"),
        "parameters": serializers.DictField(help_text="The request, echoed"),
        "info": serializers.CharField(help_text="JSON text: seed, all_seeds, prompt, sd_model_name, generation_id…"),
    },
)
A1111_SD_MODEL = inline_serializer(
    "A1111SdModel",
    {
        "title": serializers.CharField(help_text="The model id"),
        "model_name": serializers.CharField(),
        "hash": serializers.CharField(),
        "sha256": serializers.CharField(),
        "filename": serializers.CharField(),
        "config": serializers.CharField(allow_null=True),
    },
)
A1111_SAMPLER = inline_serializer(
    "A1111Sampler",
    {"name": serializers.CharField(), "aliases": serializers.ListField(), "options": serializers.DictField()},
)
A1111_SCHEDULER = inline_serializer(
    "A1111Scheduler",
    {
        "name": serializers.CharField(),
        "label": serializers.CharField(),
        "aliases": serializers.ListField(allow_null=True),
        "default_rho": serializers.FloatField(),
        "need_inner_model": serializers.BooleanField(),
    },
)
A1111_LORA = inline_serializer(
    "A1111Lora",
    {
        "name": serializers.CharField(),
        "alias": serializers.CharField(),
        "path": serializers.CharField(help_text="The LoRA's id"),
        "metadata": serializers.DictField(),
    },
)
A1111_OPTIONS = inline_serializer(
    "A1111Options",
    {
        "sd_model_checkpoint": serializers.CharField(),
        "sd_checkpoint_hash": serializers.CharField(),
        "samples_format": serializers.CharField(),
    },
)
A1111_PROGRESS = inline_serializer(
    "A1111Progress",
    {
        "progress": serializers.FloatField(help_text="0 to 1"),
        "eta_relative": serializers.FloatField(help_text="Seconds left, estimated"),
        "state": serializers.DictField(help_text="job, job_count, job_timestamp, sampling_step, sampling_steps…"),
        "current_image": serializers.CharField(allow_null=True, help_text="The newest live preview, base64 PNG"),
        "textinfo": serializers.CharField(allow_null=True, help_text="The job's status"),
    },
)
A1111_PNG_INFO_REQUEST = inline_serializer(
    "A1111PngInfoRequest", {"image": serializers.CharField(help_text="Base64 image, plain or a data: URL")}
)
A1111_PNG_INFO = inline_serializer(
    "A1111PngInfo",
    {
        "info": serializers.CharField(help_text="The parameters text inside the image"),
        "items": serializers.DictField(help_text="Its other metadata (atelier: Atelier's record as JSON text)"),
        "parameters": serializers.DictField(help_text="Prompt, Negative prompt, Steps, Seed, Size-1, Size-2, Model…"),
    },
)
A1111_SCRIPTS = inline_serializer(
    "A1111Scripts", {"txt2img": serializers.ListField(), "img2img": serializers.ListField()}
)
