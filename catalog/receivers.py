"""The catalog's signal receivers, connected when CatalogConfig.ready() imports this module: an
edit of a model or a setting clears the process cache of catalog reads."""

from django.db.models.signals import post_delete, post_save

from catalog.models import AIModel, Setting
from catalog.selectors import catalog_cache

for model in (AIModel, Setting):
    post_save.connect(catalog_cache.clear, sender=model, dispatch_uid=f"catalog-cache-save-{model.__name__}")
    post_delete.connect(catalog_cache.clear, sender=model, dispatch_uid=f"catalog-cache-delete-{model.__name__}")
