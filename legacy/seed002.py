"""Seed 002, the ComfyUI image manager: ``/api/images/generate`` (waits, answers the URL and
metadata), ``/api/v1/posts/{post_id}/generate_images`` (a post is one of the caller's
collections) and the ComfyUI server's status and start, over the canonical services.

Its editable catalog (``/api/images/{settings,styles,formats,prompt_examples}``) is the
catalog's own API.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaff
from core.errors import NotFound
from gallery.selectors import collection_get
from gallery.serializers import asset_file_url
from generation.models import Api
from generation.services.comfyui import comfyui_start, comfyui_status
from legacy.sync import STILL_RUNNING, still_running, submit_and_wait


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
            202: STILL_RUNNING,
        },
    )
    def post(self, request):
        # Only seed 002's fields reach the canonical serializer.
        data = {name: request.data[name] for name in SeedImagesGenerateSerializer().fields if name in request.data}
        submitted = submit_and_wait(request, {**data, "num_images": 1}, api=Api.SEED002)
        if not submitted.finished:
            return still_running(request, submitted)
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
            202: STILL_RUNNING,
        },
    )
    def post(self, request, post_id):
        collection = collection_get(owner=request.user, collection_id=post_id)
        if collection is None:
            raise NotFound("Post not found")
        payload = PostImagesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        # The images join the post as they are made, whether or not this request waits for them.
        submitted = submit_and_wait(
            request,
            {
                "prompt": payload.validated_data["prompt"],
                "num_images": payload.validated_data["count"],
                "collection": collection.pk,
            },
            api=Api.SEED002,
        )
        if not submitted.finished:
            return still_running(request, submitted)
        assets = list(submitted.generation.assets.all())
        return Response({"image_urls": [asset_file_url(asset, request) for asset in assets]})


class ComfyUIStatusView(APIView):
    @extend_schema(summary="Is the ComfyUI server up: queue length and devices", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(comfyui_status())


class ComfyUIStartView(APIView):
    """Runs the operator-configured start command. The request body is ignored on purpose."""

    permission_classes = [IsStaff]

    @extend_schema(summary="Start the ComfyUI server (staff)", request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        return Response(comfyui_start())
