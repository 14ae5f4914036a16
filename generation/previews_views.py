"""``GET /api/generate/{id}/preview``: a running generation's latest in-progress picture.

For polling clients (``preview_url`` in ``GET /api/generate/{id}``); watchers of the live stream
get the same pictures inline in its ``preview`` events. Owner only; 404 when the generation is
someone else's, has finished, or has no preview yet.
"""

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.views import APIView

from core.errors import NotFound
from generation import selectors


class WebPRenderer(BaseRenderer):
    """Lets a request that accepts only ``image/webp`` pass content negotiation; the picture is
    answered as it is, and only an error answer comes through here, as its JSON envelope."""

    media_type = "image/webp"
    format = "webp"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data, default=str).encode() if data is not None else b""


class GenerationPreviewView(APIView):
    # Polled while a job runs; the job was counted when it was made (core.throttling).
    ratelimit_exempt = True
    renderer_classes = [JSONRenderer, WebPRenderer]

    @extend_schema(
        summary="The latest in-progress picture of a running generation (WebP)",
        parameters=[
            OpenApiParameter(
                "index", int, description="The preview's index (as in preview_url); any value answers the latest."
            )
        ],
        description=(
            "The picture `preview_url` links to while the generation runs (owner only). 404 in the "
            "error envelope when the generation is someone else's, has finished, or has no preview yet."
        ),
        responses={
            (200, "image/webp"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The picture, long side at most ATELIER_PREVIEW_MAX_SIDE"
            ),
        },
    )
    def get(self, request, pk):
        preview = selectors.generation_running_preview(user=request.user, generation_id=pk)
        if preview is None:
            raise NotFound("No preview for this generation")
        response = HttpResponse(preview.data, content_type=preview.content_type)
        response["Cache-Control"] = "private, no-store"
        response["X-Preview-Index"] = str(preview.index)
        return response
