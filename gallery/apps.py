from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "gallery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from gallery.models import Asset
        from gallery.services import asset_files_forget

        post_delete.connect(
            lambda sender, instance, **kwargs: asset_files_forget(asset=instance),
            sender=Asset,
            weak=False,
            dispatch_uid="gallery-asset-files",
        )
