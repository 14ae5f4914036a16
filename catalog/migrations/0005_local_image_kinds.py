"""Adds the local provider's image kinds (image-to-image, inpainting, image-to-video, upscale) to
catalogs seeded before they existed. Models already present are left as operators edited them."""

from django.db import migrations

from catalog.seed_models import MODELS

LOCAL_IMAGE_KINDS = ["local/image-to-image", "local/inpainting", "local/image-to-video", "local/upscale"]


def seed(apps, schema_editor):
    AIModel = apps.get_model("catalog", "AIModel")
    existing = set(AIModel.objects.filter(id__in=LOCAL_IMAGE_KINDS).values_list("id", flat=True))
    rows = [row for row in MODELS if row["id"] in LOCAL_IMAGE_KINDS and row["id"] not in existing]
    AIModel.objects.bulk_create([AIModel(**row) for row in rows])


def unseed(apps, schema_editor):
    apps.get_model("catalog", "AIModel").objects.filter(id__in=LOCAL_IMAGE_KINDS).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_seed_catalog")]

    operations = [migrations.RunPython(seed, unseed)]
