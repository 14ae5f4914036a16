import shlex
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from gallery.provenance.local_signer import local_signer_write


class Command(BaseCommand):
    help = (
        "Makes a local test CA and a content-credentials signer it issued (EC P-256, es256) and "
        "prints the settings that use them. For development and tests only: nobody else trusts its root."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            default=str(Path(settings.BASE_DIR) / "var" / "c2pa"),
            help="Where to write the files (default: var/c2pa/).",
        )
        parser.add_argument("--days", type=int, default=365, help="How long the certificates are valid.")
        parser.add_argument("--force", action="store_true", help="Make new ones even if valid ones are there.")
        parser.add_argument(
            "--if-unset", action="store_true", help="Do nothing when a signer is configured (ATELIER_C2PA_CERT)."
        )
        parser.add_argument(
            "--export", action="store_true", help="Print the lines as `export NAME=value` for a shell's eval."
        )

    def handle(self, *args, **options):
        if options["if_unset"] and settings.ATELIER_C2PA_CERT:
            return
        made = local_signer_write(Path(options["dir"]).resolve(), days=options["days"], force=options["force"])
        for line in made.env_lines():
            if options["export"]:
                name, value = line.split("=", 1)
                line = f"export {name}={shlex.quote(value)}"
            self.stdout.write(line)
