"""The settings the platform reads, their types and what values they accept.

Reading a stored value as its type is ``catalog.setting_values``, which the selectors use too;
this module sits above the selectors (a default model must be one the catalog has).
"""

from collections.abc import Callable

from catalog.models import SettingType
from catalog.selectors import model_get
from catalog.setting_values import InvalidSettingValue


def _one_of(*choices: str) -> Callable:
    def check(value) -> None:
        if value not in choices:
            raise InvalidSettingValue(f"Use one of: {', '.join(choices)}.")

    return check


def _between(low: int, high: int) -> Callable:
    def check(value) -> None:
        if not low <= value <= high:
            raise InvalidSettingValue(f"Use a value between {low} and {high}.")

    return check


def _model_exists(value) -> None:
    if value and model_get(ref=value) is None:
        raise InvalidSettingValue(f"Unknown model '{value}'.")


# name -> (type, check of the parsed value). Other names are free-form operator settings.
KNOWN_SETTINGS: dict[str, tuple[str, Callable]] = {
    "default_model": (SettingType.STRING, _model_exists),
    "default_format": (SettingType.STRING, _one_of("png", "jpeg", "webp")),
    "default_steps": (SettingType.INTEGER, _between(1, 100)),
    "prompt_enhancement_provider": (SettingType.STRING, _one_of("auto", "anthropic", "openai", "offline")),
}
