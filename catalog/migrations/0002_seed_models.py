"""Seeds the catalog with every model the seeds name, plus the offline local model.

Re-running only fills in models that are missing: operators' edits in the admin are kept.
"""

from django.db import migrations

from catalog.seed_models import MODELS


def seed(apps, schema_editor):
    AIModel = apps.get_model("catalog", "AIModel")
    existing = set(AIModel.objects.values_list("id", flat=True))
    AIModel.objects.bulk_create([AIModel(**row) for row in MODELS if row["id"] not in existing])


def unseed(apps, schema_editor):
    AIModel = apps.get_model("catalog", "AIModel")
    AIModel.objects.filter(id__in=[row["id"] for row in MODELS]).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
