from django.conf import settings
from django.contrib.auth import login
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import login as login_service
from accounts.authentication import SessionAuthentication
from core.errors import ValidationFailed


class LoginInputSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False)
    username = serializers.CharField(required=False, max_length=150)
    password = serializers.CharField(required=False, max_length=256, trim_whitespace=False)
    credential = serializers.CharField(required=False, max_length=4096)

    def validate(self, attrs):
        if attrs.get("credential"):
            return attrs
        if (attrs.get("email") or attrs.get("username")) and attrs.get("password"):
            return attrs
        raise ValidationFailed(details="Send {email, password}, {username, password} or {credential}.")


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def _check_csrf_of_browsers(request) -> None:
    """Browsers must send the CSRF token: session clients, and any form post (another site's form
    could otherwise sign a visitor into an account of its choosing). A JSON post without cookies
    cannot come from another site's page (it would need a CORS preflight) and needs no token."""
    is_form = (request.content_type or "").startswith(_FORM_TYPES)
    if is_form or settings.SESSION_COOKIE_NAME in request.COOKIES:
        SessionAuthentication().enforce_csrf(request)


class LoginView(APIView):
    """JSON sign-in (seeds 001 and 004): starts a session."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    ratelimit_group = None  # failed attempts are limited by the login service itself

    @extend_schema(
        request=LoginInputSerializer,
        responses=inline_serializer(
            "LoginResult", {"success": serializers.BooleanField(), "redirect_url": serializers.CharField()}
        ),
    )
    def post(self, request):
        _check_csrf_of_browsers(request)
        payload = LoginInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        identifier = data.get("email") or data.get("username") or "google"
        login_service.login_attempt_allowed(request, identifier=identifier)
        try:
            if data.get("credential"):
                user = login_service.user_by_google(credential=data["credential"])
            else:
                user = login_service.user_by_password(
                    email=data.get("email"), username=data.get("username"), password=data["password"]
                )
        except login_service.InvalidCredentials:
            login_service.login_failed(request, identifier=identifier)
            raise
        login(request, user, backend="django.contrib.auth.backends.AllowAllUsersModelBackend")
        return Response({"success": True, "redirect_url": settings.LOGIN_REDIRECT_URL})
