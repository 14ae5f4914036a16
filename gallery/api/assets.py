from types import SimpleNamespace

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from core.errors import NotFound
from core.schema import envelope, message_envelope
from gallery.api.delivery import attachment, serve_file
from gallery.api.ranges import serve_file_ranged
from gallery.filters import AssetFilter
from gallery.models import Asset
from gallery.pagination import AssetPagination
from gallery.selectors import asset_get_visible, asset_list
from gallery.serializers import AssetSerializer, AssetUpdateSerializer
from gallery.services import asset_delete, asset_download, asset_update
from teams.acting import acting_key_team, acting_team
from teams.policy import team_object_delete_check

PRIVATE_CACHE = "private, max-age=3600"
_ID = OpenApiParameter("pk", str, OpenApiParameter.PATH)
LIST_PARAMS = [
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1, "maximum": AssetPagination.max_page},
        description="Page number (page mode)",
    ),
    OpenApiParameter(
        "limit", {"type": "integer", "minimum": 1, "maximum": AssetPagination.max_limit}, description="Items per page"
    ),
    OpenApiParameter("cursor", str, description="Opaque cursor; empty for the first page (cursor mode)"),
]
_FORMAT = OpenApiParameter("format", str, enum=["png", "jpeg", "webp"], description="Convert to this format")
# Files are served with their own type: the images and videos we store, or bytes of another kind.
_MEDIA_TYPES = ("image/png", "image/jpeg", "image/webp", "video/mp4", "application/octet-stream")
_BINARY = {(200, media_type): OpenApiTypes.BINARY for media_type in _MEDIA_TYPES}
_WEBP = {(200, "image/webp"): OpenApiTypes.BINARY}


class _FormatIsAnImageFormat(DefaultContentNegotiation):
    """``?format=`` is the image format (a list filter, a download's target), not DRF's renderer
    override; the renderer is chosen by the Accept header alone."""

    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)

    def select_renderer(self, request, renderers, format_suffix=None):
        # File answers are not rendered; a client asking for ``image/*`` gets the file, and JSON
        # if there is an error to report.
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


@extend_schema_view(
    list=extend_schema(summary="My images and videos", parameters=LIST_PARAMS),
    favorites=extend_schema(
        summary="My favourite images and videos", parameters=LIST_PARAMS, responses=AssetSerializer(many=True)
    ),
)
class GalleryViewSet(viewsets.GenericViewSet):
    """The caller's images and videos: filters, two paginations, flags, files and downloads."""

    serializer_class = AssetSerializer
    pagination_class = AssetPagination
    filterset_class = AssetFilter
    content_negotiation_class = _FormatIsAnImageFormat
    ratelimit_group = "gallery"
    # The owner's own bytes, each part of a page or answer already counted (core.throttling).
    ratelimit_exempt = frozenset({"file", "thumbnail", "download"})
    results_key = "images"
    deleted_message = "Image deleted successfully"
    # Lists show the space the request works in; an asset opens for its owner and, when it is a
    # team's, for every member (teams/acting.py).
    acts_as_team = True

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Asset.objects.none()
        return asset_list(owner=self.request.user, team=acting_team(self.request))

    def get_object(self):
        asset = asset_get_visible(
            user=self.request.user, asset_id=self.kwargs["pk"], key_team=acting_key_team(self.request)
        )
        if asset is None:
            raise NotFound("Asset not found")
        return asset

    def get_changeable(self):
        """The asset, when the caller may change or delete it: a team's asset is its maker's and
        the team's owners' and admins' to change (403 for other members)."""
        asset = self.get_object()
        team_object_delete_check(user=self.request.user, team_id=asset.team_id, creator_id=asset.owner_id)
        return asset

    def _page(self, queryset):
        page = self.paginate_queryset(self.filter_queryset(queryset))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def list(self, request):
        return self._page(self.get_queryset())

    @action(detail=False, methods=["get"], url_path="favorites/list")
    def favorites(self, request):
        return self._page(self.get_queryset().filter(is_favorited=True))

    @extend_schema(summary="One asset", parameters=[_ID], responses=envelope("AssetResponse", "image", AssetSerializer))
    def retrieve(self, request, pk=None):
        return Response({"success": True, "image": self.get_serializer(self.get_object()).data})

    @extend_schema(
        summary="Favourite, publish or file an asset",
        request=AssetUpdateSerializer,
        parameters=[_ID],
        responses=envelope("AssetResponse", "image", AssetSerializer),
    )
    def partial_update(self, request, pk=None):
        asset = self.get_changeable()
        data = AssetUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asset = asset_update(asset=asset, data=data.validated_data)
        return Response({"success": True, "image": self.get_serializer(asset).data})

    @extend_schema(
        summary="Delete an asset and its files", parameters=[_ID], responses={200: message_envelope("DeleteResult")}
    )
    def destroy(self, request, pk=None):
        asset_delete(asset=self.get_changeable())
        return Response({"success": True, "message": self.deleted_message})

    @extend_schema(summary="The asset's file", parameters=[_ID], responses=_BINARY)
    @action(detail=True, methods=["get"])
    def file(self, request, pk=None):
        asset = self.get_object()
        if asset.type == Asset.Type.VIDEO:
            # Byte ranges, so that a <video> element can seek.
            return serve_file_ranged(request, storage=asset.file.storage, name=asset.file.name, cache=PRIVATE_CACHE)
        return serve_file(storage=asset.file.storage, name=asset.file.name)

    @extend_schema(summary="The asset's WebP thumbnail", parameters=[_ID], responses=_WEBP)
    @action(detail=True, methods=["get"])
    def thumbnail(self, request, pk=None):
        asset = self.get_object()
        if not asset.thumbnail:
            raise NotFound("This asset has no thumbnail yet")
        return serve_file(storage=asset.thumbnail.storage, name=asset.thumbnail.name)

    @extend_schema(summary="Download, converted if asked", parameters=[_ID, _FORMAT], responses=_BINARY)
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None, to=None):
        # The format in the path (seed 004's /download/{id}/{format}) or in the query string.
        wanted = to or request.query_params.get("format")
        handle, filename = asset_download(asset=self.get_object(), format=wanted)
        return attachment(handle=handle, filename=filename)
