from rest_framework import authentication, exceptions

from accounts.selectors import api_key_find_active
from accounts.services import api_key_touch


class APIKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <api key>``. No CSRF: the key is not sent by browsers on their own."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header")
        return api_key_authenticate(parts[1])

    def authenticate_header(self, request):
        return self.keyword


def api_key_authenticate(secret: str):
    """The ``(user, api key)`` an API key's secret signs in, however the client sent it (Bearer
    here, HTTP Basic for the A1111 clients); a 401 for an unknown or expired key, a 403 for a
    disabled account."""
    api_key = api_key_find_active(full_key=secret) if secret else None
    if api_key is None:
        raise exceptions.AuthenticationFailed("Invalid or expired token")
    if not api_key.user.is_active:
        raise exceptions.PermissionDenied("This account is disabled")
    api_key_touch(api_key=api_key)
    return api_key.user, api_key


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, keeping deactivated users so they get a 403, not a 401."""

    def authenticate(self, request):
        user = getattr(request._request, "user", None)
        if not user or not user.is_authenticated:
            return None
        self.enforce_csrf(request)
        return user, None
