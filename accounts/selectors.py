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
