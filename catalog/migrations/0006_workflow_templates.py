"""ComfyUI workflow templates, with the default text-to-image template seeded; and OpenAI's
edit (inpainting) and variation models added to catalogs seeded before they existed.

Re-running the seed only adds what is missing: operators' edits are kept.
"""

from django.db import migrations, models

from catalog.seed_models import MODELS
from catalog.seed_workflows import WORKFLOWS

OPENAI_IMAGE_MODELS = ["openai/dall-e-2/edit", "openai/gpt-image-1/edit", "openai/dall-e-2/variations"]


def seed(apps, schema_editor):
    WorkflowTemplate = apps.get_model("catalog", "WorkflowTemplate")
    existing = set(WorkflowTemplate.objects.values_list("name", flat=True))
    WorkflowTemplate.objects.bulk_create([WorkflowTemplate(**row) for row in WORKFLOWS if row["name"] not in existing])
    AIModel = apps.get_model("catalog", "AIModel")
    present = set(AIModel.objects.filter(id__in=OPENAI_IMAGE_MODELS).values_list("id", flat=True))
    rows = [row for row in MODELS if row["id"] in OPENAI_IMAGE_MODELS and row["id"] not in present]
    AIModel.objects.bulk_create([AIModel(**row) for row in rows])


def unseed(apps, schema_editor):
    WorkflowTemplate = apps.get_model("catalog", "WorkflowTemplate")
    WorkflowTemplate.objects.filter(name__in=[row["name"] for row in WORKFLOWS]).delete()
    apps.get_model("catalog", "AIModel").objects.filter(id__in=OPENAI_IMAGE_MODELS).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_local_image_kinds")]

    operations = [
        migrations.CreateModel(
            name="WorkflowTemplate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.SlugField(max_length=100, unique=True)),
                ("description", models.TextField(blank=True)),
                ("graph", models.JSONField(help_text="The workflow in ComfyUI's API format (File → Export (API)).")),
                (
                    "slots",
                    models.JSONField(
                        default=dict,
                        help_text='Where each parameter goes, e.g. {"prompt": ["6", "text"], "width": ["5", "width"]}.',
                    ),
                ),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"ordering": ["name"]},
        ),
        migrations.RunPython(seed, unseed),
    ]
