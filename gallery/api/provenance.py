"""What made an image, read back from its file: one of the caller's assets, or any image sent."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound
from core.schema import envelope
from gallery.models import Asset
from gallery.provenance import provenance_of_file, provenance_read
from gallery.selectors import asset_get_visible


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


class CredentialsStatusSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The C2PA validation status code, e.g. assertion.dataHash.mismatch")
    explanation = serializers.CharField(allow_blank=True)


class CredentialsActionSerializer(serializers.Serializer):
    action = serializers.CharField(help_text="c2pa.created, c2pa.opened, c2pa.edited, c2pa.transcoded, …")
    digital_source_type = serializers.CharField(allow_blank=True, help_text="The IPTC digital source type URI")
    software_agent = serializers.CharField(allow_blank=True, help_text="What did it: the model, or Atelier")
    when = serializers.CharField(allow_blank=True)


class CredentialsIngredientSerializer(serializers.Serializer):
    title = serializers.CharField(allow_blank=True)
    format = serializers.CharField(allow_blank=True)
    relationship = serializers.CharField(allow_blank=True, help_text="parentOf: the image this one was made from")
    has_manifest = serializers.BooleanField(help_text="Whether the ingredient carried content credentials of its own")


class ContentCredentialsSerializer(serializers.Serializer):
    """The file's C2PA manifest, summed up, and what validating it says. Only ``available`` and
    ``present`` are there when the file has no manifest."""

    available = serializers.BooleanField(help_text="Whether this server can read content credentials")
    present = serializers.BooleanField(help_text="Whether the file carries a C2PA manifest")
    state = serializers.ChoiceField(
        choices=["valid", "untrusted", "invalid"],
        required=False,
        help_text="valid: signed by a trusted signer and unchanged since; untrusted: unchanged, but the "
        "signer is on no trust list; invalid: changed after signing, or a broken manifest (see status)",
    )
    validation_state = serializers.CharField(required=False, help_text="The reader's own word: Trusted, Valid, Invalid")
    status = CredentialsStatusSerializer(many=True, required=False, help_text="The failures the reader reported")
    claim_generator = serializers.CharField(required=False, allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True)
    actions = CredentialsActionSerializer(many=True, required=False)
    digital_source_type = serializers.CharField(
        required=False, allow_blank=True, help_text="How the image was made (its own manifest's, or its original's)"
    )
    software_agent = serializers.CharField(required=False, allow_blank=True, help_text="The model that made it")
    ingredients = CredentialsIngredientSerializer(many=True, required=False)
    signer = serializers.CharField(required=False, allow_blank=True, help_text="The signing certificate's common name")
    issuer = serializers.CharField(required=False, allow_blank=True, help_text="Its organisation")
    algorithm = serializers.CharField(required=False, allow_blank=True)
    signed_at = serializers.CharField(required=False, allow_blank=True)


class ProvenanceSerializer(serializers.Serializer):
    format = serializers.CharField(help_text="The file's format, as read from its content")
    found = serializers.BooleanField(help_text="Whether the file says what made it")
    atelier = AtelierMetadataSerializer(allow_null=True, help_text="Atelier's record, when the file has one")
    parameters = serializers.CharField(allow_blank=True, help_text="The common parameters text, as written")
    fields = ParametersFieldsSerializer(allow_null=True, help_text="That text read into fields")
    software = serializers.CharField(allow_blank=True, help_text="The program the file names as its maker")
    content_credentials = ContentCredentialsSerializer(help_text="The C2PA manifest and its validation")


_RESPONSE = envelope("ProvenanceResponse", "provenance", ProvenanceSerializer)


class AssetProvenanceView(APIView):
    ratelimit_group = "gallery"

    @extend_schema(
        summary="What made one of my images (or my team's), read back from its file",
        description="Atelier's metadata and the C2PA content credentials the stored file carries, validated.",
        parameters=[OpenApiParameter("pk", str, OpenApiParameter.PATH)],
        responses=_RESPONSE,
    )
    def get(self, request, pk):
        # Its maker's, or a team's for every member (as GET /api/gallery/{id}).
        asset = asset_get_visible(user=request.user, asset_id=pk)
        if asset is None:
            raise NotFound("Asset not found")
        found = provenance_of_file(file=asset.file, format=asset.format, is_image=asset.type == Asset.Type.IMAGE)
        return Response({"success": True, "provenance": ProvenanceSerializer(found).data})


class ProvenanceVerifyView(APIView):
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="An image (PNG, JPEG, WebP, …)")

        class Meta:
            ref_name = "ProvenanceVerifyInput"

    @extend_schema(
        summary="What an image file says made it",
        description=(
            "Atelier's record, or the common `parameters` text read into fields, and the file's C2PA "
            "content credentials with their validation (a file changed after signing reads as `invalid`). "
            "400 for a non-image or a file over the upload limit."
        ),
        request={"multipart/form-data": InputSerializer},
        responses=_RESPONSE,
    )
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        found = provenance_read(payload.validated_data["file"])
        return Response({"success": True, "provenance": ProvenanceSerializer(found).data})
