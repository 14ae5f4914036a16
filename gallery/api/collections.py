from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.errors import NotFound
from core.pagination import PageLimitPagination
from core.schema import envelope, message_envelope
from gallery.api.assets import LIST_PARAMS as ASSET_LIST_PARAMS
from gallery.filters import AssetFilter
from gallery.models import Collection
from gallery.pagination import AssetPagination
from gallery.selectors import asset_list, collection_get_visible, collection_list
from gallery.serializers import AssetSerializer, CollectionAssetsSerializer, CollectionSerializer
from gallery.services import (
    collection_assets_add,
    collection_assets_remove,
    collection_create,
    collection_delete,
    collection_update,
)
from teams.acting import acting_key_team, acting_team
from teams.policy import team_object_delete_check

_ID = OpenApiParameter("pk", str, OpenApiParameter.PATH)
_COLLECTION = envelope("CollectionResponse", "collection", CollectionSerializer)


class CollectionViewSet(viewsets.GenericViewSet):
    """The caller's collections (boards) and the assets filed in them."""

    serializer_class = CollectionSerializer
    ratelimit_group = "gallery"
    # Lists and new collections are the space's the request works in (teams/acting.py).
    acts_as_team = True

    # A collection's assets are paginated as the gallery's are; read per action, so that the
    # schema describes each list as it is served.
    @property
    def pagination_class(self):
        return AssetPagination if getattr(self, "action", None) == "assets" else PageLimitPagination

    @property
    def results_key(self) -> str:
        return "images" if getattr(self, "action", None) == "assets" else "collections"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Collection.objects.none()
        return collection_list(owner=self.request.user, team=acting_team(self.request))

    def get_object(self):
        collection = collection_get_visible(
            user=self.request.user, collection_id=self.kwargs["pk"], key_team=acting_key_team(self.request)
        )
        if collection is None:
            raise NotFound("Collection not found")
        return collection

    def get_changeable(self):
        """A team's collection is renamed or deleted by its maker or the team's owners and admins."""
        collection = self.get_object()
        team_object_delete_check(user=self.request.user, team_id=collection.team_id, creator_id=collection.owner_id)
        return collection

    def _one(self, collection, status_code=status.HTTP_200_OK):
        collection = collection_get_visible(user=self.request.user, collection_id=collection.pk)
        return Response({"success": True, "collection": self.get_serializer(collection).data}, status=status_code)

    @extend_schema(summary="My collections")
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(summary="Create a collection", responses={201: _COLLECTION})
    def create(self, request):
        data = CollectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        collection = collection_create(owner=request.user, team=acting_team(request), **data.validated_data)
        return self._one(collection, status.HTTP_201_CREATED)

    @extend_schema(summary="One collection", parameters=[_ID], responses=_COLLECTION)
    def retrieve(self, request, pk=None):
        return self._one(self.get_object())

    @extend_schema(summary="Rename or describe a collection", parameters=[_ID], responses=_COLLECTION)
    def partial_update(self, request, pk=None):
        collection = self.get_changeable()
        data = CollectionSerializer(collection, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return self._one(collection_update(collection=collection, data=data.validated_data))

    @extend_schema(
        summary="Delete a collection (its assets stay)",
        parameters=[_ID],
        responses={200: message_envelope("DeleteResult")},
    )
    def destroy(self, request, pk=None):
        collection_delete(collection=self.get_changeable())
        return Response({"success": True, "message": "Collection deleted successfully"})

    @extend_schema(
        methods=["GET"],
        summary="A collection's assets",
        parameters=[_ID, *ASSET_LIST_PARAMS],
        responses={200: AssetSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST", "DELETE"],
        summary="File assets in the collection (POST) or take them out (DELETE)",
        parameters=[_ID],
        request=CollectionAssetsSerializer,
        responses={
            200: envelope(
                "CollectionAssetsChanged",
                "collection",
                CollectionSerializer,
                changed=serializers.IntegerField(help_text="How many assets were added or removed"),
            )
        },
    )
    @action(detail=True, methods=["get", "post", "delete"])
    def assets(self, request, pk=None):
        collection = self.get_object()
        if request.method == "GET":
            queryset = asset_list(owner=collection.owner, team=collection.team).filter(collection=collection)
            queryset = AssetFilter(request.query_params, queryset=queryset, request=request)
            if not queryset.is_valid():
                from rest_framework.exceptions import ValidationError

                raise ValidationError(queryset.errors)
            page = self.paginate_queryset(queryset.qs)
            return self.get_paginated_response(AssetSerializer(page, many=True, context={"request": request}).data)
        data = CollectionAssetsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data["asset_ids"]
        if request.method == "POST":
            changed = collection_assets_add(collection=collection, asset_ids=ids)
        else:
            changed = collection_assets_remove(collection=collection, asset_ids=ids)
        return Response({"success": True, "changed": changed, "collection": self._one(collection).data["collection"]})
