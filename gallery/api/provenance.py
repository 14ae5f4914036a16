"""What made an image, read back from its file: one of the caller's assets, or any image sent."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound
from core.schema import envelope
from gallery.models import Asset
from gallery.provenance import metadata_of_file, metadata_read
from gallery.selectors import asset_get


class ProvenanceLoraSerializer(serializers.Serializer):
    path = serializers.CharField()
    scale = serializers.FloatField(allow_null=True)


class ProvenanceSourceSerializer(serializers.Serializer):
    """The input image of an image-to-image generation."""

    asset_id = serializers.CharField(required=False, help_text="The owner's asset it was, when it was one")
    generation_id = serializers.CharField(required=False, help_text="The generation that made that asset")
    url = serializers.CharField(required=False, help_text="Where it was fetched from")
    sha256 = serializers.CharField(required=False, help_text="Digest of the image as the provider got it")


class AtelierMetadataSerializer(serializers.Serializer):
    """Atelier's own record; a field is absent when unknown (prompts, when the owner keeps them out)."""

    generator = serializers.CharField(required=False)
    version = serializers.CharField(required=False, help_text="Atelier's version that made it")
    generation_id = serializers.CharField(required=False)
    prompt = serializers.CharField(required=False)
    final_prompt = serializers.CharField(required=False, help_text="The prompt sent, when it differs")
    negative_prompt = serializers.CharField(required=False)
    model = serializers.CharField(required=False, help_text="The model id")
    provider = serializers.CharField(required=False)
    seed = serializers.IntegerField(required=False)
    width = serializers.IntegerField(required=False)
    height = serializers.IntegerField(required=False)
    steps = serializers.IntegerField(required=False)
    guidance = serializers.FloatField(required=False, help_text="Guidance (CFG) scale")
    sampler = serializers.CharField(required=False)
    style = serializers.CharField(required=False, help_text="The art style")
    loras = ProvenanceLoraSerializer(many=True, required=False)
    source = ProvenanceSourceSerializer(required=False, help_text="The input image, for image-to-image")


class ParametersFieldsSerializer(serializers.Serializer):
    """The common ``parameters`` text, read into fields."""

    prompt = serializers.CharField(allow_blank=True)
    negative_prompt = serializers.CharField(allow_blank=True)
    steps = serializers.IntegerField(allow_null=True)
    sampler = serializers.CharField(allow_blank=True)
    cfg_scale = serializers.FloatField(allow_null=True)
    seed = serializers.IntegerField(allow_null=True)
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    model = serializers.CharField(allow_blank=True)
    extra = serializers.DictField(child=serializers.CharField(), help_text="Every other setting, as written")


class ProvenanceSerializer(serializers.Serializer):
    format = serializers.CharField(help_text="The file's format, as read from its content")
    found = serializers.BooleanField(help_text="Whether the file says what made it")
    atelier = AtelierMetadataSerializer(allow_null=True, help_text="Atelier's record, when the file has one")
    parameters = serializers.CharField(allow_blank=True, help_text="The common parameters text, as written")
    fields = ParametersFieldsSerializer(allow_null=True, help_text="That text read into fields")
    software = serializers.CharField(allow_blank=True, help_text="The program the file names as its maker")


_RESPONSE = envelope("ProvenanceResponse", "provenance", ProvenanceSerializer)


class AssetProvenanceView(APIView):
    ratelimit_group = "gallery"

    @extend_schema(
        summary="What made one of my images, read back from its file",
        parameters=[OpenApiParameter("pk", str, OpenApiParameter.PATH)],
        responses=_RESPONSE,
    )
    def get(self, request, pk):
        asset = asset_get(owner=request.user, asset_id=pk)
        if asset is None:
            raise NotFound("Asset not found")
        found = metadata_of_file(file=asset.file, format=asset.format, is_image=asset.type == Asset.Type.IMAGE)
        return Response({"success": True, "provenance": ProvenanceSerializer(found).data})


class ProvenanceVerifyView(APIView):
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="An image (PNG, JPEG, WebP, …)")

        class Meta:
            ref_name = "ProvenanceVerifyInput"

    @extend_schema(
        summary="What an image file says made it",
        description="Atelier's record, or the common `parameters` text read into fields. 400 for a non-image.",
        request={"multipart/form-data": InputSerializer},
        responses=_RESPONSE,
    )
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        found = metadata_read(payload.validated_data["file"])
        return Response({"success": True, "provenance": ProvenanceSerializer(found).data})
