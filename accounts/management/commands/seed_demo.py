from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.services import api_key_create, api_key_revoke, user_create

DEMO_EMAIL = "demo@atelier.local"
DEMO_PASSWORD = "atelier-demo"  # noqa: S105 - a documented demo login for the local run
DEMO_KEY_NAME = "demo"


class Command(BaseCommand):
    help = "Creates the demo account (once) and prints its email, password and a fresh API key."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=DEMO_EMAIL)
        parser.add_argument("--password", default=DEMO_PASSWORD)

    @transaction.atomic
    def handle(self, *args, email, password, **options):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = user_create(email=email, password=password, full_name="Demo User", is_staff=True, is_superuser=True)
        # The key's secret is never stored, so each run replaces the demo key with a new one.
        for old_key in user.api_keys.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True):
            api_key_revoke(api_key=old_key)
        _, secret = api_key_create(user=user, name=DEMO_KEY_NAME)
        self.stdout.write(
            "\nDemo account (also an admin at /admin/):\n"
            f"  email:    {email}\n"
            f"  password: {password}\n"
            f"  API key:  {secret}\n"
        )
