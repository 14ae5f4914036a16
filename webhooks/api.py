"""Each user's own signing secret for per-request ``webhook_url``s (``/api/user/webhook-secret``).
The staff manage the endpoints through the staff API (ops/admin_api/webhooks.py)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsActiveUser
from core.schema import envelope
from webhooks import services


class UserSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="whsec_… (base64 key); signs your webhook_url deliveries.")
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then deliveries carry a signature with the previous secret too."
    )
    rotated_at = serializers.DateTimeField(allow_null=True)


# The answer as served: the success envelope around the secret.
_USER_SECRET = envelope("UserWebhookSecretResponse", "webhook_secret", UserSecretSerializer)


class _OwnSecretView(APIView):
    permission_classes = [IsActiveUser]
    ratelimit_group = "general"


class UserSecretView(_OwnSecretView):
    """The secret that signs the caller's ``webhook_url`` deliveries."""

    @extend_schema(summary="Your webhook signing secret", responses=_USER_SECRET)
    def get(self, request):
        holder = services.user_webhook_secret(user=request.user)
        return Response({"success": True, "webhook_secret": UserSecretSerializer(holder).data})


class UserSecretRotateView(_OwnSecretView):
    @extend_schema(
        summary="Rotate your webhook signing secret (the old one signs too for 24 h)",
        request=None,
        responses=_USER_SECRET,
    )
    def post(self, request):
        holder = services.user_webhook_secret_rotate(user=request.user)
        return Response({"success": True, "webhook_secret": UserSecretSerializer(holder).data})
