"""Public links by short key: a page and the raw file. Only public, non-NSFW assets (or the
viewer's own) are reachable; anything else is a 404, exactly like a key that does not exist."""

from django.http import Http404
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from gallery.api.ranges import serve_file_ranged
from gallery.credentials_panel import asset_credentials_panel
from gallery.models import Asset
from gallery.selectors import asset_get_shared
from gallery.services import asset_shared_file


def _shared(request, key: str) -> Asset:
    asset = asset_get_shared(short_key=key, viewer=request.user)
    if asset is None:
        raise Http404
    return asset


def _cache(asset: Asset) -> str:
    return "public, max-age=3600" if asset.is_shareable else "private, max-age=3600"


@extend_schema(exclude=True)
class SharePageView(APIView):
    permission_classes = [AllowAny]

    def get(self, request, key: str):
        asset = _shared(request, key)
        credentials = None
        if asset.type == Asset.Type.IMAGE:
            # The panel reads the file ShareRawView serves (a copy without prompts, maybe).
            credentials = asset_credentials_panel(asset, name=asset_shared_file(asset=asset))
        return render(request, "gallery/share.html", {"asset": asset, "credentials": credentials})


@extend_schema(exclude=True)
class ShareRawView(APIView):
    """The raw file; ``/video/{key}`` (seed 001) answers only for videos."""

    permission_classes = [AllowAny]
    # A shared file: the bytes of a page, never counted (core.throttling).
    ratelimit_exempt = True
    video_only = False

    def get(self, request, key: str):
        asset = _shared(request, key)
        if self.video_only and asset.type != Asset.Type.VIDEO:
            raise Http404
        # Byte ranges: a browser's video element plays and seeks with them. An image goes out
        # without its prompts unless its owner shares them.
        name = asset_shared_file(asset=asset)
        return serve_file_ranged(request, storage=asset.file.storage, name=name, cache=_cache(asset))
