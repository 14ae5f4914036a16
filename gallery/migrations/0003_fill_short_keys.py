from django.db import migrations


def fill_short_keys(apps, schema_editor):
    from gallery.models import new_short_key

    Asset = apps.get_model("gallery", "Asset")
    for asset in Asset.objects.filter(short_key__isnull=True).only("id").iterator():
        Asset.objects.filter(pk=asset.pk).update(short_key=new_short_key())


class Migration(migrations.Migration):
    dependencies = [("gallery", "0002_gallery_features")]

    operations = [migrations.RunPython(fill_short_keys, migrations.RunPython.noop)]
