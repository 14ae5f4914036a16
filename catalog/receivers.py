"""The catalog's signal receivers and what it hands the apps below it, connected when
CatalogConfig.ready() imports this module: an edit of a model or a setting clears the process
cache of catalog reads; teams learn to name models for their allow-lists."""

from django.db.models.signals import post_delete, post_save

from catalog.models import AIModel, Setting
from catalog.selectors import catalog_cache, model_get
from teams.policy import model_resolver_set

for model in (AIModel, Setting):
    post_save.connect(catalog_cache.clear, sender=model, dispatch_uid=f"catalog-cache-save-{model.__name__}")
    post_delete.connect(catalog_cache.clear, sender=model, dispatch_uid=f"catalog-cache-delete-{model.__name__}")


def model_id_of(ref: str) -> str | None:
    model = model_get(ref=ref, active_only=False)
    return model.pk if model is not None else None


model_resolver_set(model_id_of)
