"""Seeds the art styles, the size formats, the prompt examples and the platform settings.

Re-running only adds rows whose name is missing: operators' edits in the admin are kept.
"""

from django.db import migrations

from catalog.seed_catalog import FORMATS, PROMPT_EXAMPLES, SETTINGS, STYLES

_TABLES = [
    ("Style", "name", STYLES),
    ("Format", "name", FORMATS),
    ("PromptExample", "title", PROMPT_EXAMPLES),
    ("Setting", "name", SETTINGS),
]


def seed(apps, schema_editor):
    for model_name, key, rows in _TABLES:
        model = apps.get_model("catalog", model_name)
        existing = set(model.objects.values_list(key, flat=True))
        model.objects.bulk_create([model(**row) for row in rows if row[key] not in existing])


def unseed(apps, schema_editor):
    for model_name, key, rows in _TABLES:
        model = apps.get_model("catalog", model_name)
        model.objects.filter(**{f"{key}__in": [row[key] for row in rows]}).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_styles_formats_examples_settings")]

    operations = [migrations.RunPython(seed, unseed)]
