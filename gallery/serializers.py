from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gallery.models import Asset, Collection


def _absolute(path: str, request) -> str:
    return request.build_absolute_uri(path) if request is not None else path


def asset_file_url(asset: Asset, request=None) -> str:
    return _absolute(reverse("gallery:asset-file", kwargs={"pk": asset.pk}), request)


def asset_share_url(asset: Asset, request=None) -> str:
    name = "gallery:share-video" if asset.type == Asset.Type.VIDEO else "gallery:share-page"
    return _absolute(reverse(name, kwargs={"key": asset.short_key}), request)


class AssetDimensionsSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class AssetGenerationSerializer(serializers.Serializer):
    """The generation that made an asset, as seed 003's image details show it."""

    id = serializers.UUIDField(read_only=True)
    prompt = serializers.CharField(read_only=True)
    model = serializers.CharField(source="model_id", read_only=True)
    api = serializers.CharField(
        read_only=True,
        help_text="The API it was asked for through: atelier, openai, automatic1111, or a seed's (seed000…).",
    )
    created_at = serializers.DateTimeField(read_only=True)


class AssetSerializer(serializers.ModelSerializer):
    """An image or video, the same in every answer. Beside the canonical fields it carries seed
    004's names for some of them (``image_url``, ``art_style``, ``model_used``, …) and seed
    003's ``generation``: the generation that made it, null when none did or it is gone. The
    lists read that generation with the assets, and a generation's own assets know it already."""

    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    share_url = serializers.SerializerMethodField()
    generation_id = serializers.UUIDField(read_only=True)
    collection_id = serializers.UUIDField(read_only=True, allow_null=True)
    team = serializers.UUIDField(
        source="team_id", read_only=True, allow_null=True, help_text="The team it was made in; null: personal."
    )
    generation = AssetGenerationSerializer(read_only=True, allow_null=True)
    filename = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField(help_text="The file, as `url`")
    art_style = serializers.CharField(source="style", read_only=True, help_text="As `style`; blank for none")
    dimensions = serializers.SerializerMethodField()
    model_used = serializers.CharField(source="model", read_only=True, help_text="As `model`")

    class Meta:
        model = Asset
        fields = [
            "id",
            "type",
            "url",
            "thumbnail_url",
            "width",
            "height",
            "duration",
            "format",
            "file_size",
            "prompt",
            "model",
            "style",
            "seed",
            "generation_id",
            "collection_id",
            "team",
            "is_favorited",
            "is_public",
            "is_nsfw",
            "share_prompt_metadata",
            "share_url",
            "created_at",
            "updated_at",
            "generation",
            "filename",
            "image_url",
            "art_style",
            "dimensions",
            "model_used",
        ]
        read_only_fields = fields

    def get_url(self, asset: Asset) -> str:
        return asset_file_url(asset, self.context.get("request"))

    def get_thumbnail_url(self, asset: Asset) -> str | None:
        if not asset.thumbnail:
            return None
        return _absolute(reverse("gallery:asset-thumbnail", kwargs={"pk": asset.pk}), self.context.get("request"))

    def get_share_url(self, asset: Asset) -> str | None:
        """The public link; only a shareable asset has one."""
        return asset_share_url(asset, self.context.get("request")) if asset.is_shareable else None

    def get_filename(self, asset: Asset) -> str:
        return asset.file.name.rsplit("/", 1)[-1]

    def get_image_url(self, asset: Asset) -> str:
        return asset_file_url(asset, self.context.get("request"))

    @extend_schema_field(AssetDimensionsSerializer)
    def get_dimensions(self, asset: Asset) -> dict:
        return {"width": asset.width, "height": asset.height}


class AssetUpdateSerializer(serializers.Serializer):
    is_favorited = serializers.BooleanField(required=False)
    is_public = serializers.BooleanField(required=False)
    share_prompt_metadata = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="Its share link serves the file with its prompts in it; null: as your share_prompt_metadata says.",
    )
    collection = serializers.UUIDField(required=False, allow_null=True)


class CollectionSerializer(serializers.ModelSerializer):
    asset_count = serializers.IntegerField(read_only=True, default=0)
    team = serializers.UUIDField(
        source="team_id", read_only=True, allow_null=True, help_text="The team it belongs to; null: personal."
    )

    class Meta:
        model = Collection
        fields = ["id", "name", "description", "asset_count", "team", "created_at", "updated_at"]
        read_only_fields = ["id", "asset_count", "team", "created_at", "updated_at"]
        # Uniqueness per owner is checked by the service (the owner is not an input field).
        validators: list = []


class CollectionAssetsSerializer(serializers.Serializer):
    asset_ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=500)
