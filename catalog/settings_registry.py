"""The settings the platform reads, their types and what values they accept."""

import json
from collections.abc import Callable

from catalog.models import SettingType


class InvalidSettingValue(ValueError):
    pass


def parse_setting_value(*, value: str, value_type: str):
    """Reads a setting's text as its type; raises InvalidSettingValue when it is not one."""
    text = value.strip()
    try:
        if value_type == SettingType.INTEGER:
            return int(text)
        if value_type == SettingType.FLOAT:
            return float(text)
        if value_type == SettingType.JSON:
            return json.loads(text)
    except ValueError:
        raise InvalidSettingValue(f"'{value}' is not a valid {value_type} value.") from None
    if value_type == SettingType.BOOLEAN:
        lowered = text.lower()
        if lowered in {"true", "1", "yes", "on"}:
            return True
        if lowered in {"false", "0", "no", "off"}:
            return False
        raise InvalidSettingValue(f"'{value}' is not a boolean: use true or false.")
    return value


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
    from catalog.selectors import model_get

    if value and model_get(ref=value) is None:
        raise InvalidSettingValue(f"Unknown model '{value}'.")


# name -> (type, check of the parsed value). Other names are free-form operator settings.
KNOWN_SETTINGS: dict[str, tuple[str, Callable]] = {
    "default_model": (SettingType.STRING, _model_exists),
    "default_format": (SettingType.STRING, _one_of("png", "jpeg", "webp")),
    "default_steps": (SettingType.INTEGER, _between(1, 100)),
    "prompt_enhancement_provider": (SettingType.STRING, _one_of("auto", "anthropic", "openai", "offline")),
}
