"""A BRIN index on generation_generation.created_at, on PostgreSQL only.

The admin metrics read a day's generations by creation time (ops/admin_api/rollup.py). Rows are
appended in creation order, so a BRIN index (a few pages for millions of rows, next to nothing
to maintain on insert) narrows the scan to that day's blocks. SQLite needs no such index.
"""

from django.db import migrations

INDEX = "generation_created_brin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # autosummarize: each block range is summarised as soon as it fills, not at the next VACUUM.
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON generation_generation USING brin (created_at)"
            " WITH (pages_per_range = 32, autosummarize = on)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("generation", "0009_generation_webhook_url")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
