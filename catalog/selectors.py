from django.db.models import QuerySet

from catalog.models import AIModel
from generation import providers


def model_get(*, ref: str, active_only: bool = True) -> AIModel | None:
    """Finds a model by its id or one of its aliases (``flux``, ``stable_video``…)."""
    queryset = AIModel.objects.filter(is_active=True) if active_only else AIModel.objects.all()
    model = queryset.filter(pk=ref).first()
    if model is not None:
        return model
    # Aliases live in a JSON list; the catalog is a few dozen rows, so matching them here is
    # cheaper than a JSON lookup that SQLite cannot index anyway.
    for candidate in queryset.exclude(aliases=[]):
        if ref in candidate.aliases:
            return candidate
    return None


def model_list(*, kind: str | None = None, provider: str | None = None, available: bool | None = None) -> list[AIModel]:
    queryset: QuerySet[AIModel] = AIModel.objects.filter(is_active=True)
    if kind:
        queryset = queryset.filter(kind=kind)
    if provider:
        queryset = queryset.filter(provider=provider)
    models = list(queryset)
    if available is not None:
        models = [m for m in models if providers.is_available(m.provider) == available]
    return models


def model_is_available(*, model: AIModel) -> bool:
    return providers.is_available(model.provider)
