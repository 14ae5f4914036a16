from django.urls import reverse
from rest_framework import serializers

from gallery.models import Asset


def asset_file_url(asset: Asset, request=None) -> str:
    path = reverse("gallery:asset-file", kwargs={"pk": asset.pk})
    return request.build_absolute_uri(path) if request is not None else path


class AssetSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    generation_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Asset
        fields = [
            "id",
            "type",
            "url",
            "thumbnail_url",
            "width",
            "height",
            "format",
            "file_size",
            "prompt",
            "model",
            "seed",
            "generation_id",
            "is_favorited",
            "is_public",
            "created_at",
        ]
        read_only_fields = fields

    def get_url(self, asset: Asset) -> str:
        return asset_file_url(asset, self.context.get("request"))

    def get_thumbnail_url(self, asset: Asset) -> str | None:
        return None
