from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts import keys
from accounts.models import APIKey, User
from accounts.selectors import (
    OTHER_PREFERENCE_DEFAULTS,
    PREFERENCE_DEFAULTS,
    PRIVACY_PREFERENCES,
    user_preferences,
)
from core.errors import ValidationFailed


@transaction.atomic
def user_create(*, email: str, password: str | None = None, full_name: str = "", **extra) -> User:
    """Creates a user. Apps above react in this transaction to the user's ``post_save``: the
    credits app opens their credit account with the starting grant (credits/receivers.py)."""
    return User.objects.create_user(email=email, password=password, full_name=full_name, **extra)


def user_profile_update(*, user: User, full_name: str) -> User:
    user.full_name = full_name.strip()
    user.save(update_fields=["full_name", "updated_at"])
    return user


PREFERRED_FORMATS = ("png", "jpeg", "webp")


def user_preferences_update(*, user: User, preferences: dict, styles: Iterable[str]) -> dict:
    """Sets the preferences given (seed 004's keys, each checked) and returns them all, with the
    defaults of those never set. ``styles`` are the art styles a user may choose: the catalog's,
    which the caller reads. A style is stored as the catalog spells it; blank means none."""
    if not isinstance(preferences, dict):
        raise ValidationFailed(details={"preferences": ["Must be an object."]})
    known = {name.lower(): name for name in styles}
    changes, errors = {}, {}
    for key, value in preferences.items():
        if key not in PREFERENCE_DEFAULTS and key not in OTHER_PREFERENCE_DEFAULTS:
            errors[key] = [f"Unknown preference. Use: {', '.join([*PREFERENCE_DEFAULTS, *OTHER_PREFERENCE_DEFAULTS])}."]
        elif key in ("email_notifications", *PRIVACY_PREFERENCES):
            if isinstance(value, bool):
                changes[key] = value
            else:
                errors[key] = ["Must be a boolean."]
        elif not isinstance(value, str):
            errors[key] = ["Must be a string."]
        elif key == "preferred_format":
            if value in PREFERRED_FORMATS:
                changes[key] = value
            else:
                errors[key] = [f"Use one of: {', '.join(PREFERRED_FORMATS)}."]
        elif not value.strip():
            changes[key] = ""
        elif value.strip().lower() in known:
            changes[key] = known[value.strip().lower()]
        else:
            errors[key] = [f"Unknown style. Use one of: {', '.join(sorted(known.values()))}, or blank for none."]
    if errors:
        raise ValidationFailed(details=errors)
    with transaction.atomic():
        # Under the row lock, so that two updates of different keys both stay.
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.preferences = {**(locked.preferences or {}), **changes}
        locked.save(update_fields=["preferences", "updated_at"])
    user.preferences = locked.preferences
    return user_preferences(user=user)


# Options that clients of the outside APIs set (AUTOMATIC1111's ``sd_model_checkpoint``), kept
# in the preferences JSON under a key of their own, apart from seed 004's checked preferences.
CLIENT_OPTIONS_KEY = "client_options"


def user_client_option_set(*, user: User, client: str, name: str, value: str) -> None:
    """Keeps ``client``'s option ``name`` for the user, read back with ``user_client_option``."""
    with transaction.atomic():
        # Under the row lock, as for the preferences, so that no update is lost.
        locked = User.objects.select_for_update().get(pk=user.pk)
        preferences = dict(locked.preferences or {})
        options = dict(preferences.get(CLIENT_OPTIONS_KEY) or {})
        options[client] = {**(options.get(client) or {}), name: value}
        preferences[CLIENT_OPTIONS_KEY] = options
        locked.preferences = preferences
        locked.save(update_fields=["preferences", "updated_at"])
    user.preferences = locked.preferences


def user_client_option(*, user: User, client: str, name: str) -> str | None:
    """The value ``user_client_option_set`` kept, or None."""
    options = ((user.preferences or {}).get(CLIENT_OPTIONS_KEY) or {}).get(client) or {}
    return options.get(name)


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
