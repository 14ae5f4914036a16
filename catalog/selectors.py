from collections.abc import Callable

from django.conf import settings
from django.db.models import QuerySet

from catalog.models import AIModel, Format, PromptExample, Setting, Style, WorkflowTemplate
from catalog.presets import SIZE_PRESETS
from catalog.setting_values import InvalidSettingValue, parse_setting_value
from core.process_cache import ProcessCache

# Active models by id and alias, and the settings' raw rows: read on every generation request.
catalog_cache = ProcessCache("catalog")


def _active_models_by_ref() -> dict[str, AIModel]:
    def load():
        models = list(AIModel.objects.filter(is_active=True))
        by_ref = {model.pk: model for model in models}
        for model in models:
            for alias in model.aliases:
                by_ref.setdefault(alias, model)
        return by_ref

    return catalog_cache.get("models", load)


def _setting_rows() -> dict[str, tuple[str, str]]:
    return catalog_cache.get(
        "settings",
        lambda: {
            name: (value, kind) for name, value, kind in Setting.objects.values_list("name", "value", "value_type")
        },
    )


def model_get(*, ref: str, active_only: bool = True) -> AIModel | None:
    """Finds a model by its id or one of its aliases (``flux``, ``stable_video``…)."""
    if active_only:
        return _active_models_by_ref().get(ref)
    queryset = AIModel.objects.all()
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
        models = [m for m in models if _provider_available(m.provider) == available]
    return models


def model_is_available(*, model: AIModel) -> bool:
    return _provider_available(model.provider)


def model_price_per_image(*, model: AIModel, params: dict | None = None) -> int:
    """The credits one image of ``model`` costs: the one price every page and answer shows.

    The model's base price plus the per-image extras: ``ATELIER_CREDIT_KIND_EXTRAS`` by model
    kind (a provider charges more for video or upscaling), and ``ATELIER_CREDIT_LORA_EXTRA``
    when LoRAs are applied.
    """
    price = model.credit_cost + settings.ATELIER_CREDIT_KIND_EXTRAS.get(model.kind, 0)
    if (params or {}).get("loras"):
        price += settings.ATELIER_CREDIT_LORA_EXTRA
    return price


# The setting that enables each provider's models: an environment variable of the same name
# (config/settings/base.py). The local provider needs none.
PROVIDER_SETTINGS = {
    "fal": "FAL_KEY",
    "openai": "OPENAI_API_KEY",
    "replicate": "REPLICATE_API_TOKEN",
    "huggingface": "HF_TOKEN",
    "comfyui": "COMFYUI_URL",
}


def model_unavailable_reason(*, model: AIModel) -> str | None:
    """What enables a model that cannot be used now (e.g. "Set FAL_KEY to enable fal models."),
    or None when it can be used."""
    if _provider_available(model.provider):
        return None
    setting = PROVIDER_SETTINGS.get(model.provider)
    if setting is None:
        return f"The {model.provider} provider is not installed on this server."
    return f"Set {setting} to enable {model.provider} models."


# Whether a provider can be used now (its key is configured) is the generation app's knowledge:
# it hands the catalog its check when it starts (generation/apps.py), so that the catalog never
# imports the providers. Until then no provider is available.
_provider_available: Callable[[str], bool] = lambda name: False  # noqa: E731


def provider_availability_check_set(check: Callable[[str], bool]) -> None:
    global _provider_available
    _provider_available = check


def style_list() -> QuerySet[Style]:
    return Style.objects.all()


def style_get_by_name(*, name: str) -> Style | None:
    return Style.objects.filter(name__iexact=name.strip()).first()


def style_names() -> list[str]:
    return list(Style.objects.values_list("name", flat=True))


def format_list() -> QuerySet[Format]:
    return Format.objects.all()


def format_size(*, name: str) -> tuple[int, int] | None:
    """The size of a format by name, or of a built-in preset when the table has no such row."""
    row = Format.objects.filter(name__iexact=name.strip()).values_list("width", "height").first()
    if row is not None:
        return row
    return SIZE_PRESETS.get(name)


def format_names() -> list[str]:
    names = list(Format.objects.values_list("name", flat=True))
    return names + [name for name in SIZE_PRESETS if name not in names]


def prompt_example_list(*, category: str | None = None) -> QuerySet[PromptExample]:
    queryset = PromptExample.objects.all()
    if category:
        queryset = queryset.filter(category__iexact=category)
    return queryset


def setting_list() -> QuerySet[Setting]:
    return Setting.objects.all()


def setting_values(*, names: list[str]) -> dict:
    """Several settings' typed values; missing, blank or unreadable ones are left out."""
    values = {}
    for name in names:
        value = setting_value(name=name, default=_MISSING)
        if value is not _MISSING:
            values[name] = value
    return values


_MISSING = object()


def setting_value(*, name: str, default=None):
    """A setting's typed value; ``default`` when it is missing, blank or unreadable."""
    row = _setting_rows().get(name)
    if row is None or not row[0].strip():
        return default
    try:
        return parse_setting_value(value=row[0], value_type=row[1])
    except InvalidSettingValue:
        return default


def workflow_template_get(*, name: str) -> WorkflowTemplate | None:
    """An active ComfyUI workflow template by name."""
    return WorkflowTemplate.objects.filter(name=name, is_active=True).first()
