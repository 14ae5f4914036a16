"""The ``square`` format gets a size of its own (512×512, as fal's preset of that name), where
it still has the 1024×1024 of ``square_hd`` it was first seeded with. A size an operator set in
the admin is kept."""

from django.db import migrations

OLD = (1024, 1024, "Square (1:1).")
NEW = (512, 512, "Square, standard definition (1:1).")


def _resize(apps, before: tuple, after: tuple) -> None:
    Format = apps.get_model("catalog", "Format")
    square = Format.objects.filter(name="square", width=before[0], height=before[1])
    square.update(width=after[0], height=after[1])
    Format.objects.filter(name="square", description=before[2]).update(description=after[2])


def forwards(apps, schema_editor):
    _resize(apps, OLD, NEW)


def backwards(apps, schema_editor):
    _resize(apps, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_workflow_templates")]

    operations = [migrations.RunPython(forwards, backwards)]
