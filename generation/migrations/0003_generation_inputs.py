from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("generation", "0002_job_system")]

    operations = []
