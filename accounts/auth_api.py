from django.conf import settings
from django.contrib.auth import login, logout
from django.shortcuts import redirect
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import login as login_service
from ops.errors import ValidationFailed


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


@require_GET
def logout_view(request):
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
