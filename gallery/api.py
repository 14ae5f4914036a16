from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gallery.models import Asset
from gallery.selectors import asset_list
from gallery.serializers import AssetSerializer
from ops.pagination import PageLimitPagination


class GalleryViewSet(viewsets.ReadOnlyModelViewSet):
    """The caller's images and videos, newest first."""

    serializer_class = AssetSerializer
    pagination_class = PageLimitPagination
    results_key = "images"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Asset.objects.none()
        return asset_list(owner=self.request.user)

    def retrieve(self, request, *args, **kwargs):
        return Response({"success": True, "image": self.get_serializer(self.get_object()).data})

    @extend_schema(
        summary="The asset's file",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        parameters=[OpenApiParameter("pk", str, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["get"], url_path="file", url_name="file")
    def file(self, request, pk=None):
        asset = self.get_object()
        response = FileResponse(asset.file.open("rb"), content_type=asset.content_type)
        response["Content-Disposition"] = f'inline; filename="{asset.id}.{asset.format}"'
        response["Cache-Control"] = "private, max-age=3600"
        return response
