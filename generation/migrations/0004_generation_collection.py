import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0005_video_assets"),
        ("generation", "0003_generation_inputs"),
    ]

    operations = [
        migrations.AddField(
            model_name="generation",
            name="collection",
            field=models.ForeignKey(
                blank=True,
                help_text="The owner's collection its images go into.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="gallery.collection",
            ),
        ),
    ]
