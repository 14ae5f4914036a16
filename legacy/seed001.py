"""Seed 001, the AI Image Generator: its status, model-info, clean-up and delete routes, over the
canonical services.

Its ``POST /api/generate`` (multipart, answered with ``results``) is the canonical route itself;
its library and asset pages, ``/asset/{id}/download`` and ``/video/{short_key}`` are the web
UI's and the gallery's own (the pages link them), so they live in ``gallery``.
"""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.selectors import model_get
from core.errors import NotFound
from core.schema import envelope
from gallery.api.assets import GalleryViewSet
from gallery.selectors import asset_find_by_url
from gallery.serializers import AssetSerializer
from gallery.services import asset_delete
from generation import selectors, services
from generation.models import Status


class ModelInfoView(APIView):
    """Seed 001: a model's name and its what_is / use_cases / tips."""

    @extend_schema(
        responses=inline_serializer(
            "SeedModelInfo",
            {"name": serializers.CharField(), "info": serializers.JSONField(help_text="what_is, use_cases, tips")},
        )
    )
    def get(self, request, model_id: str):
        model = model_get(ref=model_id)
        if model is None:
            raise NotFound("Invalid model ID")
        return Response({"name": model.name, "info": model.info})


class GenerationStatusView(APIView):
    """Seed 001: ``pending`` until done, then the results."""

    @extend_schema(
        responses=inline_serializer(
            "SeedGenerationStatus",
            {
                "status": serializers.ChoiceField(choices=["pending", "completed", "failed", "cancelled"]),
                "results": AssetSerializer(many=True, required=False, help_text="Once completed"),
                "error": serializers.CharField(required=False, help_text="Once failed or cancelled"),
                "progress": serializers.IntegerField(required=False, help_text="While pending"),
            },
        )
    )
    def get(self, request, request_id):
        generation = selectors.generation_get(user=request.user, generation_id=request_id)
        if generation is None:
            raise NotFound("Generation not found")
        if generation.status == Status.COMPLETED:
            results = AssetSerializer(generation.assets.all(), many=True, context={"request": request}).data
            return Response({"status": "completed", "results": results})
        if generation.status in (Status.FAILED, Status.CANCELLED):
            return Response(
                {"status": generation.status, "error": generation.error or "Generation likely failed or timed out"}
            )
        return Response({"status": "pending", "progress": generation.progress})


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


class DeleteImageSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2048)


class DeleteImageByUrlView(APIView):
    ratelimit_group = "gallery"

    @extend_schema(request=DeleteImageSerializer, responses=envelope("Done"))
    def post(self, request):
        payload = DeleteImageSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        asset = asset_find_by_url(owner=request.user, url=payload.validated_data["url"])
        if asset is None:
            raise NotFound("Image not found")
        asset_delete(asset=asset)
        return Response({"success": True})


class SeedAssetViewSet(GalleryViewSet):
    """Seed 001's ``DELETE /api/assets/{id}``, the same service with that seed's message."""

    deleted_message = "Asset deleted successfully"
