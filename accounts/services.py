from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts import keys
from accounts.models import APIKey, User
from credits.services import credits_account_open


@transaction.atomic
def user_create(*, email: str, password: str | None = None, full_name: str = "", **extra) -> User:
    """Creates a user with their credit account and the starting grant (opened on save)."""
    user = User.objects.create_user(email=email, password=password, full_name=full_name, **extra)
    credits_account_open(user=user)  # idempotent: makes the dependency explicit for readers
    return user


def user_profile_update(*, user: User, full_name: str) -> User:
    user.full_name = full_name.strip()
    user.save(update_fields=["full_name", "updated_at"])
    return user


def api_key_create(*, user: User, name: str) -> tuple[APIKey, str]:
    """Returns the key row and the full secret, which is never stored and shown only now."""
    full, prefix, key_hash = keys.generate_key()
    api_key = APIKey.objects.create(user=user, name=name, prefix=prefix, key_hash=key_hash)
    return api_key, full


def api_key_revoke(*, api_key: APIKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])


# Recording every use would turn each API read into a write; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


def api_key_touch(*, api_key: APIKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_PRECISION:
        APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
