import django.db.models.deletion
from django.db import migrations, models

import generation.models


class Migration(migrations.Migration):
    dependencies = [("generation", "0002_job_system")]

    operations = [
        migrations.CreateModel(
            name="GenerationInput",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("role", models.CharField(choices=[("image", "Image"), ("mask", "Mask")], max_length=10)),
                (
                    "file",
                    models.FileField(max_length=300, upload_to=generation.models.generation_input_upload_to),
                ),
                ("width", models.PositiveIntegerField()),
                ("height", models.PositiveIntegerField()),
                ("content_type", models.CharField(default="image/png", max_length=50)),
                ("file_size", models.PositiveBigIntegerField()),
                ("sha256", models.CharField(max_length=64)),
                (
                    "source_url",
                    models.URLField(blank=True, help_text="Where it was fetched from, if by URL.", max_length=2048),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "generation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="inputs",
                        to="generation.generation",
                    ),
                ),
            ],
            options={"ordering": ["generation", "role"]},
        ),
        migrations.AddConstraint(
            model_name="generationinput",
            constraint=models.UniqueConstraint(fields=("generation", "role"), name="generation_input_one_per_role"),
        ),
    ]
