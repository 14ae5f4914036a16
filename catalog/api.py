from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from catalog.models import AIModel, ModelKind, Provider
from catalog.selectors import (
    model_get,
    model_is_available,
    model_list,
    model_price_per_image,
    model_unavailable_reason,
)
from core.errors import NotFound
from core.schema import envelope


class AIModelSerializer(serializers.ModelSerializer):
    available = serializers.SerializerMethodField()
    # Null when available; else what enables it, e.g. "Set FAL_KEY to enable fal models."
    unavailable_reason = serializers.SerializerMethodField()
    # What one image is charged, extras for the model's kind included (the admin's base price
    # alone would understate video and upscale models).
    credit_cost = serializers.SerializerMethodField()
    lora_extra_cost = serializers.SerializerMethodField()
    supports_previews = serializers.BooleanField(
        read_only=True,
        help_text="Whether jobs of this model show in-progress pictures (`event: preview` on the "
        "generation's live stream): local text-to-image and ComfyUI models, GPT Image, and fal or "
        "Replicate models that stream.",
    )

    class Meta:
        model = AIModel
        fields = [
            "id",
            "name",
            "description",
            "provider",
            "kind",
            "aliases",
            "credit_cost",
            "lora_extra_cost",
            "min_width",
            "max_width",
            "min_height",
            "max_height",
            "default_width",
            "default_height",
            "max_images",
            "supports",
            "supports_previews",
            "defaults",
            "info",
            "available",
            "unavailable_reason",
        ]
        read_only_fields = fields

    def get_available(self, model: AIModel) -> bool:
        return model_is_available(model=model)

    def get_unavailable_reason(self, model: AIModel) -> str | None:
        return model_unavailable_reason(model=model)

    def get_credit_cost(self, model: AIModel) -> int:
        return model_price_per_image(model=model)

    def get_lora_extra_cost(self, model: AIModel) -> int | None:
        """Extra credits per image when LoRAs are applied (null for models that take none)."""
        if "loras" not in model.supports:
            return None
        return model_price_per_image(model=model, params={"loras": [{}]}) - model_price_per_image(model=model)


class QueryBooleanField(serializers.BooleanField):
    """true or false when given ("null" is refused, as the schema's boolean says). DRF reads a
    boolean missing from a query string as false; here it is not given."""

    default_empty_html = serializers.empty


class ModelListQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ModelKind.choices, required=False)
    provider = serializers.ChoiceField(choices=Provider.choices, required=False)
    available = QueryBooleanField(required=False)


class AIModelViewSet(viewsets.GenericViewSet):
    """The models a user can generate with, with their limits, cost and availability."""

    serializer_class = AIModelSerializer
    lookup_value_regex = ".+"
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=ModelKind.values),
            OpenApiParameter("provider", str, enum=Provider.values),
            OpenApiParameter("available", bool),
        ],
        responses=envelope("AIModelList", "models", AIModelSerializer, many=True),
    )
    def list(self, request):
        query = ModelListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        models = model_list(**query.validated_data)
        return Response({"success": True, "models": self.get_serializer(models, many=True).data})

    @extend_schema(
        parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, description="id or alias")],
        responses=envelope("AIModelResponse", "model", AIModelSerializer),
    )
    def retrieve(self, request, pk=None):
        model = model_get(ref=pk)
        if model is None:
            raise NotFound("Invalid model ID")
        return Response({"success": True, "model": self.get_serializer(model).data})
