"""Every write to the editable catalog: styles, formats, prompt examples and settings.

The API passes fields it has already type-checked; the rules live here: names are unique
regardless of case, a style template has a ``{prompt}`` slot, a setting's value reads as its
type (and, for the settings the platform reads, is one it can use).
"""

from django.db import IntegrityError, models, transaction

from catalog.models import NEGATIVE_SLOT, PROMPT_SLOT, Format, PromptExample, Setting, Style
from catalog.setting_values import InvalidSettingValue, parse_setting_value
from catalog.settings_registry import KNOWN_SETTINGS
from core.errors import ValidationFailed


def _check_unique(*, instance: models.Model, field: str) -> None:
    value = getattr(instance, field)
    clash = type(instance).objects.filter(**{f"{field}__iexact": value}).exclude(pk=instance.pk)
    if clash.exists():
        raise ValidationFailed(details={field: [f"'{value}' already exists."]})


def _save(*, instance: models.Model, data: dict, unique_field: str) -> models.Model:
    for field, value in data.items():
        setattr(instance, field, value)
    _check_unique(instance=instance, field=unique_field)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        # Two writers raced past the check above; the unique index decided.
        raise ValidationFailed(
            details={unique_field: [f"'{getattr(instance, unique_field)}' already exists."]}
        ) from None
    return instance


def style_check(*, style: Style) -> None:
    errors = {}
    if PROMPT_SLOT not in style.prompt_template:
        errors["prompt_template"] = ["The template must contain {prompt}, where the user's prompt goes."]
    if PROMPT_SLOT in style.negative_prompt_template:
        errors["negative_prompt_template"] = [f"Use {NEGATIVE_SLOT} here, not {PROMPT_SLOT}."]
    if errors:
        raise ValidationFailed(details=errors)


def style_create(*, data: dict) -> Style:
    style = Style(**data)
    style_check(style=style)
    return _save(instance=style, data={}, unique_field="name")


def style_update(*, style: Style, data: dict) -> Style:
    for field, value in data.items():
        setattr(style, field, value)
    style_check(style=style)
    return _save(instance=style, data={}, unique_field="name")


def style_delete(*, style: Style) -> None:
    style.delete()


def format_create(*, data: dict) -> Format:
    return _save(instance=Format(), data=data, unique_field="name")


def format_update(*, format: Format, data: dict) -> Format:
    return _save(instance=format, data=data, unique_field="name")


def format_delete(*, format: Format) -> None:
    format.delete()


def prompt_example_create(*, data: dict) -> PromptExample:
    return _save(instance=PromptExample(), data=data, unique_field="title")


def prompt_example_update(*, example: PromptExample, data: dict) -> PromptExample:
    return _save(instance=example, data=data, unique_field="title")


def prompt_example_delete(*, example: PromptExample) -> None:
    example.delete()


def setting_check(*, setting: Setting) -> None:
    known = KNOWN_SETTINGS.get(setting.name)
    if known is not None:
        expected_type, _ = known
        if setting.value_type != expected_type:
            raise ValidationFailed(details={"value_type": [f"{setting.name} is a {expected_type} setting."]})
    if not setting.value.strip():
        return  # blank: the platform default applies
    try:
        value = parse_setting_value(value=setting.value, value_type=setting.value_type)
        if known is not None:
            known[1](value)
    except InvalidSettingValue as error:
        raise ValidationFailed(details={"value": [str(error)]}) from None


def setting_create(*, data: dict) -> Setting:
    setting = Setting(**data)
    if "value_type" not in data and setting.name in KNOWN_SETTINGS:
        setting.value_type = KNOWN_SETTINGS[setting.name][0]
    setting_check(setting=setting)
    return _save(instance=setting, data={}, unique_field="name")


def setting_update(*, setting: Setting, data: dict) -> Setting:
    for field, value in data.items():
        setattr(setting, field, value)
    setting_check(setting=setting)
    return _save(instance=setting, data={}, unique_field="name")


def setting_delete(*, setting: Setting) -> None:
    setting.delete()
