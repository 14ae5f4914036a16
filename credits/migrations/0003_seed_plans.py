from django.db import migrations

from credits.seed_plans import PLANS


def seed_plans(apps, schema_editor):
    Plan = apps.get_model("credits", "Plan")
    CreditAccount = apps.get_model("credits", "CreditAccount")
    for row in PLANS:
        Plan.objects.update_or_create(slug=row["slug"], defaults=row)
    default = Plan.objects.get(is_default=True)
    CreditAccount.objects.filter(plan__isnull=True).update(plan=default)


class Migration(migrations.Migration):
    dependencies = [("credits", "0002_plans_refills")]

    operations = [migrations.RunPython(seed_plans, migrations.RunPython.noop)]
