from celery import shared_task

from gallery.models import Asset
from gallery.services import asset_thumbnail_build


@shared_task(name="gallery.asset_thumbnail_create", acks_late=True)
def asset_thumbnail_create(asset_id: str) -> None:
    """Makes an asset's thumbnail once; a deleted asset or one that has a thumbnail is skipped."""
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None or asset.thumbnail:
        return
    asset_thumbnail_build(asset=asset)
