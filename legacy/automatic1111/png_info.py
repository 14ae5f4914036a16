"""``POST /sdapi/v1/png-info`` (A1111's: a base64 image in, what it says made it out) and
``GET /sdapi/v1/png-info?asset_id=…`` (the same, of one of the caller's gallery images).

The answer is A1111's ``{info, items, parameters}``: ``info`` the ``parameters`` text the file
carries (Atelier writes it into every image it makes, as A1111 does), ``parameters`` that text
as A1111 parses it (``Prompt``, ``Negative prompt``, ``Steps``, ``Size-1``, ``Size-2``…), and
``items`` the file's other metadata (Atelier's own record, as JSON text).
"""

import base64
import binascii
import json
import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from core.errors import NotFound, ValidationFailed
from gallery.models import Asset
from gallery.provenance import metadata_of_file, metadata_read
from gallery.selectors import asset_get
from legacy.automatic1111.common import A1111View
from legacy.schema import A1111_ERROR, A1111_ERRORS, A1111_PNG_INFO, A1111_PNG_INFO_REQUEST, A1111_TAG

# parameters_parse's typed fields, by the names A1111's parser gives them.
_A1111_KEYS = (("steps", "Steps"), ("sampler", "Sampler"), ("cfg_scale", "CFG scale"), ("seed", "Seed"))


def _a1111_parameters(fields: dict | None) -> dict:
    """The ``parameters`` text's fields as A1111's ``parse_generation_parameters`` names them:
    the settings as text, the size split into ``Size-1`` and ``Size-2``."""
    if not fields:
        return {}
    parsed = {"Prompt": fields.get("prompt", ""), "Negative prompt": fields.get("negative_prompt", "")}
    for name, key in _A1111_KEYS:
        if fields.get(name) not in (None, ""):
            parsed[key] = str(fields[name])
    if fields.get("width") and fields.get("height"):
        parsed["Size-1"], parsed["Size-2"] = str(fields["width"]), str(fields["height"])
    if fields.get("model"):
        parsed["Model"] = fields["model"]
    parsed.update(fields.get("extra") or {})
    return parsed


def _answer(found: dict) -> Response:
    items = {}
    if found.get("atelier"):
        items["atelier"] = json.dumps(found["atelier"], ensure_ascii=False)
    if found.get("software"):
        items["Software"] = found["software"]
    return Response(
        {"info": found.get("parameters") or "", "items": items, "parameters": _a1111_parameters(found.get("fields"))}
    )


class PngInfoView(A1111View):
    field_names = {}

    @extend_schema(
        tags=[A1111_TAG],
        summary="What made one of your gallery's images",
        parameters=[OpenApiParameter("asset_id", OpenApiTypes.UUID, required=True)],
        responses={
            200: A1111_PNG_INFO,
            404: OpenApiResponse(A1111_ERROR, description="Not one of yours"),
            **A1111_ERRORS,
        },
    )
    def get(self, request):
        try:
            asset_id = uuid.UUID(request.query_params.get("asset_id", ""))
        except ValueError:
            asset_id = None
        asset = asset_get(owner=request.user, asset_id=asset_id) if asset_id else None
        if asset is None:
            raise NotFound("Image not found", details={"asset_id": ["Name one of your gallery's images."]})
        found = metadata_of_file(file=asset.file, format=asset.format, is_image=asset.type == Asset.Type.IMAGE)
        return _answer(found)

    @extend_schema(
        tags=[A1111_TAG],
        summary="What made an image, from the metadata inside it",
        request=A1111_PNG_INFO_REQUEST,
        responses={200: A1111_PNG_INFO, **A1111_ERRORS},
    )
    def post(self, request):
        image = request.data.get("image") if isinstance(request.data, dict) else None
        if not isinstance(image, str):
            raise ValidationFailed(details={"image": ["Send the image as a base64 string."]})
        if not image.strip():
            # A1111 answers an empty image with empty info.
            return _answer({})
        value = image.strip()
        if value.startswith("data:"):
            value = value.partition(",")[2]
        try:
            data = base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed("Invalid image", details={"image": ["Not base64 image data."]}) from None
        try:
            found = metadata_read(data)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, details={"image": (exc.details or {}).get("file", [])}) from None
        return _answer(found)
