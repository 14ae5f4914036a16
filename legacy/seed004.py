"""Seed 004, SketchMaker AI: ``/generate/image`` (waits, answers the images, the credits and
the time) and ``/generate/prompt``, over the canonical services.

Its ``/download/{id}/{format}`` is the gallery's download (mounted in ``legacy.urls``); its
``/api/training/*``, ``/api/user/*`` and ``/admin/api/*`` are the canonical API's own.
"""

from dataclasses import asdict

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import envelope
from gallery.serializers import asset_file_url
from generation.models import Api
from generation.prompts.api import EnhanceInputSerializer, EnhancementSerializer, enhancement_for
from generation.serializers import GenerateInputSerializer
from legacy.sync import STILL_RUNNING, still_running, submit_and_wait


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
            202: STILL_RUNNING,
        },
    )
    def post(self, request):
        data = {key: value for key, value in request.data.items() if key not in ("sync_mode", "dry_run")}
        submitted = submit_and_wait(request, data, api=Api.SEED004)
        if not submitted.finished:
            return still_running(request, submitted)
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


class SeedPromptView(APIView):
    """Seed 004's ``POST /generate/prompt``: the enhancement's fields at the top level."""

    ratelimit_group = "prompt"

    @extend_schema(request=EnhanceInputSerializer, responses=EnhancementSerializer)
    def post(self, request):
        return Response(asdict(enhancement_for(request)))
