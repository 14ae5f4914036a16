"""Synchronous generate routes of seeds 002 and 004, and seed 001's clear-generation-state.

Each is a thin view over the canonical services: the request is validated by the canonical
serializer, the generation is created (and charged) by ``generation_create``, and the view
waits for it without holding a transaction, within ``ATELIER_SYNC_TIMEOUT_SECONDS``. A job
still running at that bound is answered 202 with where to follow it, never dropped.
"""

import time

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from credits.selectors import credits_balance
from gallery.selectors import collection_get
from gallery.serializers import asset_file_url
from gallery.services import collection_assets_add
from generation import selectors, services
from generation.models import TERMINAL_STATUSES, Generation, Status
from generation.serializers import GenerateInputSerializer
from ops.errors import ErrorType, NotFound, ProviderError, ProviderUnavailable, ValidationFailed


def _generate_and_wait(request, data: dict) -> tuple[Generation, float]:
    payload = GenerateInputSerializer(data=data)
    payload.is_valid(raise_exception=True)
    started = time.monotonic()
    model = services.generation_model_resolve(ref=payload.validated_data.get("model"))
    created = services.generation_create(user=request.user, data=payload.validated_data, model=model)
    generation = selectors.generation_wait(
        user=request.user, generation_id=created.pk, timeout=settings.ATELIER_SYNC_TIMEOUT_SECONDS
    )
    return generation, time.monotonic() - started


def _still_running(request, generation: Generation) -> Response:
    return Response(
        {
            "success": True,
            "status": generation.status,
            "generation_id": str(generation.pk),
            "status_url": request.build_absolute_uri(reverse("generation-detail", args=[generation.pk])),
        },
        status=status.HTTP_202_ACCEPTED,
    )


def _raise_for_failure(generation: Generation) -> None:
    """The envelope of a generation that ended without images (its credits were refunded)."""
    if generation.error_type == ErrorType.VALIDATION_ERROR:
        raise ValidationFailed(generation.error, details=generation.error_details)
    if generation.error_type == ErrorType.PROVIDER_UNAVAILABLE:
        raise ProviderUnavailable(details=generation.error)
    raise ProviderError("Image generation error", details=generation.error or f"Generation {generation.status}")


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

    ratelimit_group = "generation"

    @extend_schema(request=SeedImagesGenerateSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        # Only seed 002's fields reach the canonical serializer.
        data = {name: request.data[name] for name in SeedImagesGenerateSerializer().fields if name in request.data}
        generation, _ = _generate_and_wait(request, {**data, "num_images": 1})
        if generation.status not in TERMINAL_STATUSES:
            return _still_running(request, generation)
        if generation.status != Status.COMPLETED:
            _raise_for_failure(generation)
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

    ratelimit_group = "generation"

    @extend_schema(request=PostImagesSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, post_id):
        collection = collection_get(owner=request.user, collection_id=post_id)
        if collection is None:
            raise NotFound("Post not found")
        payload = PostImagesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        generation, _ = _generate_and_wait(
            request, {"prompt": payload.validated_data["prompt"], "num_images": payload.validated_data["count"]}
        )
        if generation.status not in TERMINAL_STATUSES:
            return _still_running(request, generation)
        if generation.status != Status.COMPLETED:
            _raise_for_failure(generation)
        assets = list(generation.assets.all())
        collection_assets_add(collection=collection, asset_ids=[asset.pk for asset in assets])
        return Response({"image_urls": [asset_file_url(asset, request) for asset in assets]})


class GenerateImageView(APIView):
    """Seed 004 ``POST /generate/image``: the images with their dimensions, the prompt used,
    the credits spent and left, and how long it took."""

    ratelimit_group = "generation"

    @extend_schema(request=GenerateInputSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        data = {key: value for key, value in request.data.items() if key not in ("sync_mode", "dry_run")}
        generation, elapsed = _generate_and_wait(request, data)
        if generation.status not in TERMINAL_STATUSES:
            return _still_running(request, generation)
        if generation.status != Status.COMPLETED:
            _raise_for_failure(generation)
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
                "credits_remaining": credits_balance(user=request.user),
                "generation_time": round(elapsed, 3),
            }
        )


class ClearGenerationStateView(APIView):
    """Seed 001 ``POST /api/clear-generation-state``: stops the caller's unfinished
    generations (each cancelled and refunded), so a client stuck on one can start afresh."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        cleared = services.generation_cancel_unfinished(user=request.user)
        return Response({"success": True, "message": "Generation state cleared successfully", "cancelled": cleared})
