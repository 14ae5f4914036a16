"""CRUD for the editable catalog at seed 002's paths and in its shapes.

Lists are plain arrays and a delete answers ``{"status": "success"}``, as seed 002 documents;
errors use the platform's envelope. Any signed-in user reads; only staff write.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.settings import api_settings

from catalog import selectors, services
from catalog.models import Format, PromptExample, Setting, SettingType, Style
from ops.errors import NotFound


class StaffWritesOnly(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can change the catalog")
        return True


class StyleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Style
        fields = ["id", "name", "description", "prompt_template", "negative_prompt_template", "sort_order"]
        read_only_fields = ["id"]
        # Uniqueness (regardless of case) is the service's rule, answered in the same envelope.
        extra_kwargs = {"name": {"validators": []}}


class FormatSerializer(serializers.ModelSerializer):
    width = serializers.IntegerField(min_value=1, max_value=8192)
    height = serializers.IntegerField(min_value=1, max_value=8192)

    class Meta:
        model = Format
        fields = ["id", "name", "description", "width", "height", "sort_order"]
        read_only_fields = ["id"]
        extra_kwargs = {"name": {"validators": []}}


class PromptExampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = PromptExample
        fields = ["id", "title", "prompt", "category"]
        read_only_fields = ["id"]
        extra_kwargs = {"title": {"validators": []}}


class SettingSerializer(serializers.ModelSerializer):
    value = serializers.CharField(allow_blank=True, trim_whitespace=False)
    value_type = serializers.ChoiceField(choices=SettingType.choices, required=False)

    class Meta:
        model = Setting
        fields = ["id", "name", "value", "value_type", "description"]
        read_only_fields = ["id"]
        extra_kwargs = {"name": {"validators": []}}


_DELETED = inline_serializer("Deleted", fields={"status": serializers.CharField()})


class _CatalogViewSet(viewsets.GenericViewSet):
    """Thin CRUD over one catalog selector/service family. Subclasses name their functions."""

    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, StaffWritesOnly]
    pagination_class = None
    filter_backends: list = []
    noun = "Item"

    def fetch(self, pk: int):
        raise NotImplementedError

    def create_item(self, data: dict):
        raise NotImplementedError

    def update_item(self, item, data: dict):
        raise NotImplementedError

    def delete_item(self, item) -> None:
        raise NotImplementedError

    def _get(self, pk):
        item = self.fetch(int(pk)) if pk.isdigit() and len(pk) < 19 else None
        if item is None:
            raise NotFound(f"{self.noun} not found")
        return item

    def list(self, request):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self._get(pk)).data)

    def create(self, request):
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        item = self.create_item(payload.validated_data)
        return Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED)

    def _update(self, request, pk, *, partial: bool):
        item = self._get(pk)
        payload = self.get_serializer(item, data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        return Response(self.get_serializer(self.update_item(item, payload.validated_data)).data)

    def update(self, request, pk=None):
        return self._update(request, pk, partial=False)

    def partial_update(self, request, pk=None):
        return self._update(request, pk, partial=True)

    @extend_schema(responses={200: _DELETED})
    def destroy(self, request, pk=None):
        self.delete_item(self._get(pk))
        return Response({"status": "success"})


class StyleViewSet(_CatalogViewSet):
    """Art styles: prompt templates applied on generate with ``art_style``."""

    serializer_class = StyleSerializer
    noun = "Style"

    def get_queryset(self):
        return selectors.style_list()

    def fetch(self, pk):
        return selectors.style_get(style_id=pk)

    def create_item(self, data):
        return services.style_create(data=data)

    def update_item(self, item, data):
        return services.style_update(style=item, data=data)

    def delete_item(self, item):
        services.style_delete(style=item)


class FormatViewSet(_CatalogViewSet):
    """Named image sizes, accepted as ``image_size`` on generate."""

    serializer_class = FormatSerializer
    noun = "Format"

    def get_queryset(self):
        return selectors.format_list()

    def fetch(self, pk):
        return selectors.format_get(format_id=pk)

    def create_item(self, data):
        return services.format_create(data=data)

    def update_item(self, item, data):
        return services.format_update(format=item, data=data)

    def delete_item(self, item):
        services.format_delete(format=item)


class PromptExampleViewSet(_CatalogViewSet):
    """Example prompts to start from, by category."""

    serializer_class = PromptExampleSerializer
    noun = "Example"

    def get_queryset(self):
        category = self.request.query_params.get("category") if self.request else None
        return selectors.prompt_example_list(category=category)

    @extend_schema(parameters=[OpenApiParameter("category", str)])
    def list(self, request):
        return super().list(request)

    def fetch(self, pk):
        return selectors.prompt_example_get(example_id=pk)

    def create_item(self, data):
        return services.prompt_example_create(data=data)

    def update_item(self, item, data):
        return services.prompt_example_update(example=item, data=data)

    def delete_item(self, item):
        services.prompt_example_delete(example=item)


class SettingViewSet(_CatalogViewSet):
    """Platform settings read at run time (default model, format, steps, prompt enhancement)."""

    serializer_class = SettingSerializer
    noun = "Setting"

    def get_queryset(self):
        return selectors.setting_list()

    def fetch(self, pk):
        return selectors.setting_get(setting_id=pk)

    def create_item(self, data):
        return services.setting_create(data=data)

    def update_item(self, item, data):
        return services.setting_update(setting=item, data=data)

    def delete_item(self, item):
        services.setting_delete(setting=item)
