from django.core.management.base import BaseCommand
from tqdm import tqdm

from gallery.models import Asset
from gallery.services import asset_thumbnail_build


class Command(BaseCommand):
    help = "Makes the thumbnails that are missing (or, with --all, every thumbnail again)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Rebuild existing thumbnails too.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs).")

    def handle(self, *args, **options):
        assets = Asset.objects.order_by("created_at", "id")
        if not options["all"]:
            assets = assets.filter(thumbnail="")
        made = failed = 0
        total = assets.count()
        # The bar and the failures go to stderr, the summary to stdout.
        err = self.stderr._out
        bar = tqdm(total=total, unit="asset", disable=options["no_progress"], file=err)
        for asset in assets.iterator(chunk_size=500):
            try:
                asset_thumbnail_build(asset=asset)
                made += 1
            except Exception as exc:  # noqa: BLE001 - one broken file must not stop the rebuild
                failed += 1
                bar.write(f"{asset.id}: {exc}", file=err)
            bar.update(1)
        bar.close()
        self.stdout.write(f"{made} thumbnail(s) made, {failed} failed.")
