"""Seed 001's legacy ``POST /api/delete-image``: delete one of the caller's images by its URL."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from gallery.selectors import asset_find_by_url
from gallery.services import asset_delete
from ops.errors import NotFound
from ops.schema import envelope


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
