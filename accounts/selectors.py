from django.db.models import QuerySet

from accounts import keys
from accounts.models import APIKey, User


def api_key_find_active(*, full_key: str) -> APIKey | None:
    prefix = keys.split_prefix(full_key)
    if prefix is None:
        return None
    api_key = APIKey.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if api_key is None or not keys.matches(full_key, api_key.key_hash):
        return None
    return api_key


def api_key_list(*, user: User) -> QuerySet[APIKey]:
    return APIKey.objects.filter(user=user, revoked_at__isnull=True)


# Seed 004's preferences as a user who has set none has them: no art style (prompts go as
# written), PNG files, and the emails.
PREFERENCE_DEFAULTS = {"default_style": "", "preferred_format": "png", "email_notifications": True}


# Preferences beyond seed 004's, set by the same update and read one by one, so that the
# seed-shaped profile (and its clients) keep exactly the keys above. ``embed_prompt_metadata``:
# whether the prompts go inside the user's image files (gallery.provenance); the rest always does.
# ``share_prompt_metadata``: whether public share links serve the files with those prompts in
# them; by default they serve a copy without.
OTHER_PREFERENCE_DEFAULTS = {"embed_prompt_metadata": True, "share_prompt_metadata": False}
PRIVACY_PREFERENCES = ("embed_prompt_metadata", "share_prompt_metadata")


def user_preference(*, user: User, name: str):
    """One preference of the user: theirs, else its default."""
    defaults = {**PREFERENCE_DEFAULTS, **OTHER_PREFERENCE_DEFAULTS}
    return (user.preferences or {}).get(name, defaults[name])


def user_preferences(*, user: User) -> dict:
    """The user's preferences, every key present: those they set, over the defaults."""
    stored = user.preferences or {}
    return {key: stored.get(key, default) for key, default in PREFERENCE_DEFAULTS.items()}


def user_privacy_preferences(*, user: User) -> dict:
    """Where the user's prompts go: inside their files, and inside the files their links share."""
    return {name: user_preference(user=user, name=name) for name in PRIVACY_PREFERENCES}
