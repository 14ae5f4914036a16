"""The gallery's signal receivers, connected when GalleryConfig.ready() imports this module: a
deleted asset's files leave the storage with it."""

from django.db.models.signals import post_delete

from gallery.models import Asset
from gallery.services import asset_files_forget


def asset_deleted(sender, instance, **kwargs) -> None:
    asset_files_forget(asset=instance)


post_delete.connect(asset_deleted, sender=Asset, dispatch_uid="gallery-asset-files")
