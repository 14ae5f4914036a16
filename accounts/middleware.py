"""Deactivated accounts are refused everywhere, whatever session they still hold."""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from core.envelope import error_body
from core.errors import ErrorType
from core.middleware import SyncAndAsyncMiddleware, wants_json

# What a deactivated user may still reach: the page that tells them, the ways out, static files.
_ALLOWED_URL_NAMES = ("account_inactive", "account_logout", "account_login", "auth-login", "auth-logout")
_ALLOWED_PREFIXES = ("/static/", "/health")


class InactiveUserMiddleware(SyncAndAsyncMiddleware):
    """A signed-in user whose account was deactivated gets 403 from the API and is sent to the
    "account inactive" page from every other page.

    Sessions outlive deactivation (the authentication backend keeps such users so the API can
    say 403 rather than 401); without this the web UI would go on serving them.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        self._allowed_paths: frozenset[str] | None = None

    def call(self, request):
        return self._refusal(request) or self.get_response(request)

    async def __acall__(self, request):
        # Only a session signs a user in before the view (API keys are checked by the API's own
        # authentication): without its cookie there is no one to look up. With it, the session
        # and the user are read in the request's thread, as the sync path does, so that the view
        # finds them there (request.user) and does not read them again.
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            refusal = await sync_to_async(self._refusal)(request)
            if refusal is not None:
                return refusal
        return await self.get_response(request)

    def _refusal(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_active or self._allowed(request.path):
            return None
        if wants_json(request):
            body = error_body(error="This account is disabled", type=ErrorType.PERMISSION_DENIED, status=403)
            return JsonResponse(body, status=403)
        return redirect("account_inactive")

    def _allowed(self, path: str) -> bool:
        if self._allowed_paths is None:
            self._allowed_paths = frozenset(reverse(name) for name in _ALLOWED_URL_NAMES)
        return path in self._allowed_paths or path.startswith(_ALLOWED_PREFIXES)
