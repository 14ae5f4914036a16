from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from catalog.models import AIModel, Setting
        from catalog.selectors import catalog_cache

        for model in (AIModel, Setting):
            post_save.connect(catalog_cache.clear, sender=model, dispatch_uid=f"catalog-cache-save-{model.__name__}")
            post_delete.connect(
                catalog_cache.clear, sender=model, dispatch_uid=f"catalog-cache-delete-{model.__name__}"
            )
