"""CRUD for the editable catalog at seed 002's paths and in its shapes.

Lists are plain arrays and a delete answers ``{"status": "success"}``, as seed 002 documents;
errors use the platform's envelope. Any signed-in user reads; only staff write.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.settings import api_settings

from catalog import selectors, services
from catalog.models import Format, PromptExample, Setting, SettingType, Style


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


class _CatalogViewSet(viewsets.ModelViewSet):
    """CRUD over one catalog table: reads from its selector, writes through its services.
    Subclasses name the service functions."""

    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, StaffWritesOnly]
    pagination_class = None
    filter_backends: list = []
    # Ids are positive integers of the database's range; anything else is an unknown URL (404).
    lookup_value_regex = r"[0-9]{1,18}"

    def create_item(self, data: dict):
        raise NotImplementedError

    def update_item(self, item, data: dict):
        raise NotImplementedError

    def delete_item(self, item) -> None:
        raise NotImplementedError

    def perform_create(self, serializer):
        serializer.instance = self.create_item(serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self.update_item(serializer.instance, serializer.validated_data)

    @extend_schema(responses={200: _DELETED})
    def destroy(self, request, pk=None):
        # Seed 002 answers a delete with a body, not 204.
        self.delete_item(self.get_object())
        return Response({"status": "success"})


class StyleViewSet(_CatalogViewSet):
    """Art styles: prompt templates applied on generate with ``art_style``."""

    serializer_class = StyleSerializer

    def get_queryset(self):
        return selectors.style_list()

    def create_item(self, data):
        return services.style_create(data=data)

    def update_item(self, item, data):
        return services.style_update(style=item, data=data)

    def delete_item(self, item):
        services.style_delete(style=item)


class FormatViewSet(_CatalogViewSet):
    """Named image sizes, accepted as ``image_size`` on generate."""

    serializer_class = FormatSerializer

    def get_queryset(self):
        return selectors.format_list()

    def create_item(self, data):
        return services.format_create(data=data)

    def update_item(self, item, data):
        return services.format_update(format=item, data=data)

    def delete_item(self, item):
        services.format_delete(format=item)


class PromptExampleViewSet(_CatalogViewSet):
    """Example prompts to start from, by category."""

    serializer_class = PromptExampleSerializer

    def get_queryset(self):
        category = self.request.query_params.get("category") if self.action == "list" else None
        return selectors.prompt_example_list(category=category)

    @extend_schema(parameters=[OpenApiParameter("category", str)])
    def list(self, request):
        return super().list(request)

    def create_item(self, data):
        return services.prompt_example_create(data=data)

    def update_item(self, item, data):
        return services.prompt_example_update(example=item, data=data)

    def delete_item(self, item):
        services.prompt_example_delete(example=item)


class SettingViewSet(_CatalogViewSet):
    """Platform settings read at run time (default model, format, steps, prompt enhancement)."""

    serializer_class = SettingSerializer

    def get_queryset(self):
        return selectors.setting_list()

    def create_item(self, data):
        return services.setting_create(data=data)

    def update_item(self, item, data):
        return services.setting_update(setting=item, data=data)

    def delete_item(self, item):
        services.setting_delete(setting=item)
