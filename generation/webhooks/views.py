from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from generation.webhooks.services import provider_webhook_receive


class ProviderWebhookView(APIView):
    """A hosted provider's callback about one generation; trusted only once its signature verifies."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Providers deliver in bursts from a few addresses; forged calls are refused by signature instead.
    throttle_classes: list = []

    @extend_schema(
        summary="Provider callback (signature verified)",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request, provider: str, generation_id):
        # The raw bytes: signatures cover the body exactly as sent.
        outcome = provider_webhook_receive(
            provider=provider, generation_id=generation_id, headers=request.headers, body=request.body
        )
        return Response({"success": True, "status": outcome})
