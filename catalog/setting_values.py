"""A setting's stored text read as its type: what the catalog's reads and writes both need."""

import json

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
