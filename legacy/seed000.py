"""Seed 000, the Hugging Face image API: ``/api/image/models``, ``/api/image/generate``
(waits, answers the image as base64) and ``/api/image/cancel``, over the canonical services."""

import base64

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import ModelKind
from catalog.selectors import model_list
from core.errors import ApplicationError, GPUBusy, NotFound, ProviderUnavailable
from core.schema import ErrorSerializer
from generation import selectors, services
from generation.models import Api, Generation
from legacy.sync import submit_and_wait

_SEED_MODEL = inline_serializer(
    "SeedImageModel",
    {"id": serializers.CharField(), "name": serializers.CharField(), "description": serializers.CharField()},
)


class SeedGenerateSerializer(serializers.Serializer):
    prompt = serializers.CharField(max_length=2000)
    width = serializers.IntegerField(required=False, min_value=1, max_value=8192)
    height = serializers.IntegerField(required=False, min_value=1, max_value=8192)
    model = serializers.CharField(required=False, allow_blank=True, max_length=200)


class SeedCancelSerializer(serializers.Serializer):
    requestId = serializers.UUIDField()  # seed 000 names it so


def _failure(generation: Generation) -> ApplicationError:
    failure = services.generation_failure(generation)
    # Seed 000 says "GPU resources busy" for every kind of unavailability.
    return GPUBusy(details=generation.error) if isinstance(failure, ProviderUnavailable) else failure


class ImageModelsView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "SeedImageModels", {"models": serializers.DictField(child=_SEED_MODEL, help_text="By short name")}
        )
    )
    def get(self, request):
        models = {
            (model.aliases[0] if model.aliases else model.id): {
                "id": model.id,
                "name": model.name,
                "description": model.description,
            }
            for model in model_list(kind=ModelKind.TEXT_TO_IMAGE)
        }
        return Response({"models": models})


class ImageGenerateView(APIView):
    """Seed 000: waits for the image and answers it as base64."""

    ratelimit_group = None  # counted by generation_submit

    @extend_schema(
        request=SeedGenerateSerializer,
        responses={
            200: inline_serializer(
                "SeedImage",
                {
                    "requestId": serializers.UUIDField(),
                    "image": serializers.CharField(help_text="The image, base64"),
                    "model": serializers.CharField(),
                    "generationTime": serializers.FloatField(help_text="Seconds"),
                },
            ),
            503: OpenApiResponse(ErrorSerializer, description="GPU resources busy: not finished in time (requestId)"),
        },
    )
    def post(self, request):
        payload = SeedGenerateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        submitted = submit_and_wait(
            request, {**payload.validated_data, "num_images": 1}, failure=_failure, api=Api.SEED000
        )
        generation = submitted.generation
        if not submitted.finished:
            raise GPUBusy(details="The image is still being generated", requestId=str(generation.pk))
        asset = generation.assets.all()[0]
        with asset.file.open("rb") as handle:
            image = base64.b64encode(handle.read()).decode()
        return Response(
            {
                "requestId": str(generation.pk),
                "image": image,
                "model": generation.model_id,
                "generationTime": round(submitted.elapsed, 3),
            }
        )


class ImageCancelView(APIView):
    @extend_schema(
        request=SeedCancelSerializer,
        responses=inline_serializer("SeedCancelled", {"message": serializers.CharField()}),
    )
    def post(self, request):
        payload = SeedCancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        generation = selectors.generation_get(user=request.user, generation_id=payload.validated_data["requestId"])
        # The caller's own: a seed route works in the personal space, and a teammate's team job
        # is cancelled by its maker or the team's admins through DELETE /api/generate/{id}.
        if generation is None or generation.user_id != request.user.pk:
            raise NotFound("Request not found or already completed")
        try:
            services.generation_cancel(generation=generation)
        except ApplicationError as exc:
            raise NotFound("Request not found or already completed") from exc
        return Response({"message": "Request cancelled successfully"})
