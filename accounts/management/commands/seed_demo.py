import os
import shlex
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.keys import KEY_PREFIX
from accounts.models import User
from accounts.services import api_key_create, api_key_revoke, user_create

DEMO_EMAIL = "demo@atelier.local"
DEMO_PASSWORD = "atelier-demo"  # noqa: S105 - a documented demo login for the local run
DEMO_KEY_NAME = "demo"


class Command(BaseCommand):
    help = (
        "Creates the demo account (once, an ordinary user) and its API key. The key stays the same "
        "from run to run; --new-key replaces it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default=DEMO_EMAIL)
        parser.add_argument("--password", default=DEMO_PASSWORD)
        parser.add_argument("--new-key", action="store_true", help="Revoke the demo API key and print a new one.")

    @transaction.atomic
    def handle(self, *args, email, password, new_key, **options):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = user_create(email=email, password=password, full_name="Demo User")
        elif user.is_staff or user.is_superuser:
            # Its password is published: it must not open the admin (earlier versions made it one).
            user.is_staff = user.is_superuser = False
            user.save(update_fields=["is_staff", "is_superuser"])

        keys = list(user.api_keys.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True))
        if new_key:
            for old_key in keys:
                api_key_revoke(api_key=old_key)
            keys = []
        if keys:
            # Only a hash of a key is stored, so its secret cannot be shown again; scripts that
            # saved it on the first run keep working.
            key_line = (
                f"{KEY_PREFIX}_{keys[0].prefix}_… (unchanged: the full key was printed when it was made; "
                f"`{_manage_py()} seed_demo --new-key` replaces it)"
            )
        else:
            _, key_line = api_key_create(user=user, name=DEMO_KEY_NAME)
            key_line += "  (printed once: save it now)"
        self.stdout.write(
            "\nDemo account (an ordinary user):\n"
            f"  email:    {email}\n"
            f"  password: {password}\n"
            f"  API key:  {key_line}\n\n{_operator_lines()}"
        )


def _manage_py() -> str:
    """How to run manage.py from here with the interpreter running this command (the project's
    virtualenv under `make run`), so that a printed command works when pasted as it is."""
    python = _shell_path(sys.executable)
    if os.sep not in python:
        python = os.path.join(os.curdir, python)  # a bare name would be looked up on PATH
    return f"{python} {_shell_path(str(Path(settings.BASE_DIR) / 'manage.py'))}"


def _shell_path(path: str) -> str:
    """The path relative to the current folder when it lies below it, else as it is; quoted."""
    relative = os.path.relpath(path)
    return shlex.quote(path if relative.startswith(os.pardir) else relative)


def _operator_lines() -> str:
    operators = User.objects.filter(is_superuser=True, is_active=True).order_by("date_joined", "pk")
    first = operators.first()
    if first is None:
        return (
            "Operators sign in at /admin/. Create one with your own email (it asks for a password):\n"
            f"  {_manage_py()} createsuperuser --email you@example.com\n"
        )
    others = operators.count() - 1
    also = f" (and {others} other operator{'s' if others != 1 else ''})" if others else ""
    return f"Operators sign in at /admin/: {first.email}{also}.\n"
