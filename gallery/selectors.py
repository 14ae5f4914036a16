from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, QuerySet
from django.urls import Resolver404, resolve

from gallery.models import Asset, Collection


def asset_list(*, owner) -> QuerySet[Asset]:
    return Asset.objects.filter(owner=owner).select_related("generation").order_by("-created_at", "-id")


def asset_get(*, owner, asset_id) -> Asset | None:
    return Asset.objects.filter(owner=owner, pk=asset_id).first()


def asset_find_by_url(*, owner, url: str) -> Asset | None:
    """The owner's asset a URL we handed out points at: its file, thumbnail, download or share
    link (absolute or not), or the storage path of its file."""
    path = urlsplit(url).path
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is not None:
        if "pk" in match.kwargs:
            return asset_get(owner=owner, asset_id=match.kwargs["pk"])
        if "key" in match.kwargs:
            return Asset.objects.filter(owner=owner, short_key=match.kwargs["key"]).first()
    media_url = settings.MEDIA_URL or "/"
    name = path[len(media_url) :] if path.startswith(media_url) else path.lstrip("/")
    if not name:
        return None
    return Asset.objects.filter(owner=owner, file=name).first()


def asset_get_shared(*, short_key: str, viewer=None) -> Asset | None:
    """An asset by its short key: public and not NSFW, or the viewer's own. Never anyone's private one."""
    asset = Asset.objects.filter(short_key=short_key).first()
    if asset is None:
        return None
    if asset.is_shareable or (viewer is not None and viewer.is_authenticated and asset.owner_id == viewer.pk):
        return asset
    return None


def collection_get(*, owner, collection_id) -> Collection | None:
    return Collection.objects.filter(owner=owner, pk=collection_id).first()


def collection_list(*, owner) -> QuerySet[Collection]:
    return Collection.objects.filter(owner=owner).annotate(asset_count=Count("assets")).order_by("-created_at", "-id")
