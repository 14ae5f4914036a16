from django.db.models import QuerySet

from gallery.models import Asset


def asset_list(*, owner) -> QuerySet[Asset]:
    return Asset.objects.filter(owner=owner).select_related("generation").order_by("-created_at", "-id")


def asset_get(*, owner, asset_id) -> Asset | None:
    return Asset.objects.filter(owner=owner, pk=asset_id).first()
