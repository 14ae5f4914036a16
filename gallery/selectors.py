from django.db.models import Count, QuerySet

from gallery.models import Asset, Collection


def asset_list(*, owner) -> QuerySet[Asset]:
    return Asset.objects.filter(owner=owner).select_related("generation").order_by("-created_at", "-id")


def asset_get(*, owner, asset_id) -> Asset | None:
    return Asset.objects.filter(owner=owner, pk=asset_id).first()


def asset_get_shared(*, short_key: str, viewer=None) -> Asset | None:
    """An asset by its short key: public and not NSFW, or the viewer's own. Never anyone's private one."""
    asset = Asset.objects.filter(short_key=short_key).first()
    if asset is None:
        return None
    if asset.is_shareable or (viewer is not None and viewer.is_authenticated and asset.owner_id == viewer.pk):
        return asset
    return None


def collection_list(*, owner) -> QuerySet[Collection]:
    return Collection.objects.filter(owner=owner).annotate(asset_count=Count("assets")).order_by("-created_at", "-id")
