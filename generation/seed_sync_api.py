"""Synchronous generate routes of seeds 002 and 004, and seed 001's clear-generation-state.

Each is a thin view over the one submission path: the request is validated into the canonical
parameters, ``generation_submit`` creates (and charges) the generation and waits for it without
holding a transaction, within ``ATELIER_SYNC_TIMEOUT_SECONDS``, and the view shapes the answer.
A job still running at that bound is answered 202 with where to follow it, never dropped.
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from gallery.selectors import collection_get
from gallery.serializers import asset_file_url
from generation import services
from generation.serializers import GenerateInputSerializer, generate_input, idempotency_key_of
from ops.errors import NotFound
from ops.schema import envelope

_STILL_RUNNING = OpenApiResponse(
    envelope(
        "StillRunning",
        status=serializers.CharField(),
        generation_id=serializers.UUIDField(),
        status_url=serializers.URLField(help_text="GET it to follow the generation"),
    ),
    description="Still running when the wait ended: follow status_url",
)


def _submit_and_wait(request, data: dict) -> services.Submitted:
    """Submits and waits; raises the envelope of a generation that ended without images."""
    submitted = services.generation_submit(
        user=request.user, data=generate_input(data), wait=True, idempotency_key=idempotency_key_of(request)
    )
    if submitted.finished and not submitted.completed:
        raise services.generation_failure(submitted.generation)
    return submitted


def _still_running(request, submitted: services.Submitted) -> Response:
    generation = submitted.generation
    return Response(
        {
            "success": True,
            "status": generation.status,
            "generation_id": str(generation.pk),
            "status_url": request.build_absolute_uri(reverse("generation-detail", args=[generation.pk])),
        },
        status=status.HTTP_202_ACCEPTED,
    )


class SeedImagesGenerateSerializer(serializers.Serializer):
    """Seed 002's body (its names; cfg_scale and steps are the canonical serializer's aliases)."""

    prompt = serializers.CharField(max_length=2000)
    negative_prompt = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    width = serializers.IntegerField(required=False)
    height = serializers.IntegerField(required=False)
    steps = serializers.IntegerField(required=False)
    cfg_scale = serializers.FloatField(required=False)
    seed = serializers.IntegerField(required=False, allow_null=True)
    model = serializers.CharField(required=False, allow_blank=True)


class ImagesGenerateView(APIView):
    """Seed 002 ``POST /api/images/generate``: one image, answered with its URL and metadata."""

    ratelimit_group = None  # counted by generation_submit

    @extend_schema(
        request=SeedImagesGenerateSerializer,
        responses={
            200: inline_serializer(
                "SeedImagesGenerated",
                {
                    "status": serializers.CharField(help_text="success"),
                    "image_url": serializers.URLField(),
                    "metadata": inline_serializer(
                        "SeedImageMetadata",
                        {
                            "prompt": serializers.CharField(),
                            "negative_prompt": serializers.CharField(),
                            "width": serializers.IntegerField(),
                            "height": serializers.IntegerField(),
                            "steps": serializers.IntegerField(allow_null=True),
                            "cfg_scale": serializers.FloatField(allow_null=True),
                            "seed": serializers.IntegerField(allow_null=True),
                        },
                    ),
                },
            ),
            202: _STILL_RUNNING,
        },
    )
    def post(self, request):
        # Only seed 002's fields reach the canonical serializer.
        data = {name: request.data[name] for name in SeedImagesGenerateSerializer().fields if name in request.data}
        submitted = _submit_and_wait(request, {**data, "num_images": 1})
        if not submitted.finished:
            return _still_running(request, submitted)
        generation = submitted.generation
        asset = generation.assets.all()[0]
        params = generation.params or {}
        return Response(
            {
                "status": "success",
                "image_url": asset_file_url(asset, request),
                "metadata": {
                    "prompt": generation.prompt,
                    "negative_prompt": generation.negative_prompt,
                    "width": asset.width,
                    "height": asset.height,
                    "steps": params.get("num_inference_steps", data.get("steps")),
                    "cfg_scale": params.get("guidance_scale", data.get("cfg_scale")),
                    "seed": asset.seed if asset.seed is not None else generation.seed,
                },
            }
        )


class PostImagesSerializer(serializers.Serializer):
    prompt = serializers.CharField(max_length=2000)
    count = serializers.IntegerField(required=False, min_value=1, max_value=4, default=1)


class PostGenerateImagesView(APIView):
    """Seed 002 ``POST /api/v1/posts/{post_id}/generate_images``: a post is one of the caller's
    collections; the images are generated into it and their URLs answered."""

    ratelimit_group = None  # counted by generation_submit

    @extend_schema(
        request=PostImagesSerializer,
        responses={
            200: inline_serializer("PostImages", {"image_urls": serializers.ListField(child=serializers.URLField())}),
            202: _STILL_RUNNING,
        },
    )
    def post(self, request, post_id):
        collection = collection_get(owner=request.user, collection_id=post_id)
        if collection is None:
            raise NotFound("Post not found")
        payload = PostImagesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        # The images join the post as they are made, whether or not this request waits for them.
        submitted = _submit_and_wait(
            request,
            {
                "prompt": payload.validated_data["prompt"],
                "num_images": payload.validated_data["count"],
                "collection": collection.pk,
            },
        )
        if not submitted.finished:
            return _still_running(request, submitted)
        assets = list(submitted.generation.assets.all())
        return Response({"image_urls": [asset_file_url(asset, request) for asset in assets]})


class GenerateImageView(APIView):
    """Seed 004 ``POST /generate/image``: the images with their dimensions, the prompt used,
    the credits spent and left, and how long it took."""

    ratelimit_group = None  # counted by generation_submit

    @extend_schema(
        request=GenerateInputSerializer,
        responses={
            200: envelope(
                "GeneratedImages",
                images=inline_serializer(
                    "GeneratedImage",
                    {
                        "id": serializers.UUIDField(),
                        "image_url": serializers.URLField(),
                        "filename": serializers.CharField(),
                        "format": serializers.CharField(),
                        "dimensions": inline_serializer(
                            "Dimensions", {"width": serializers.IntegerField(), "height": serializers.IntegerField()}
                        ),
                    },
                    many=True,
                ),
                prompt=serializers.CharField(),
                credits_used=serializers.IntegerField(),
                credits_remaining=serializers.IntegerField(),
                generation_time=serializers.FloatField(help_text="Seconds"),
            ),
            202: _STILL_RUNNING,
        },
    )
    def post(self, request):
        data = {key: value for key, value in request.data.items() if key not in ("sync_mode", "dry_run")}
        submitted = _submit_and_wait(request, data)
        if not submitted.finished:
            return _still_running(request, submitted)
        generation = submitted.generation
        images = [
            {
                "id": str(asset.pk),
                "image_url": asset_file_url(asset, request),
                "filename": asset.file.name.rsplit("/", 1)[-1],
                "format": asset.format.upper(),
                "dimensions": {"width": asset.width, "height": asset.height},
            }
            for asset in generation.assets.all()
        ]
        return Response(
            {
                "success": True,
                "images": images,
                "prompt": generation.final_prompt or generation.prompt,
                "credits_used": generation.cost,
                "credits_remaining": submitted.credits_remaining,
                "generation_time": round(submitted.elapsed, 3),
            }
        )


class ClearGenerationStateView(APIView):
    """Seed 001 ``POST /api/clear-generation-state``: stops the caller's unfinished
    generations (each cancelled and refunded), so a client stuck on one can start afresh."""

    @extend_schema(
        request=None,
        responses=envelope(
            "GenerationStateCleared",
            message=serializers.CharField(),
            cancelled=serializers.IntegerField(help_text="How many unfinished generations were cancelled"),
        ),
    )
    def post(self, request):
        cleared = services.generation_cancel_unfinished(user=request.user)
        return Response({"success": True, "message": "Generation state cleared successfully", "cancelled": cleared})
