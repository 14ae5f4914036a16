from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("gallery", "0004_short_key_unique")]

    operations = []
