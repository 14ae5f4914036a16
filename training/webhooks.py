"""A provider's callback about one training run, trusted only once its signature verifies.

The signature schemes are generation's (fal: ED25519 against its JWKS; Replicate: Standard
Webhooks). A verified delivery is applied like a poll's answer; duplicates are harmless because
every transition is a compare-and-swap.
"""

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound, ValidationFailed
from generation.webhooks.verification import VERIFIERS
from training.models import TrainingJob
from training.providers import training_provider
from training.runner import training_remote_apply


def training_webhook_receive(*, provider: str, job_id, headers, body: bytes) -> str:
    verify = VERIFIERS.get(provider)
    if verify is None:
        raise NotFound("Unknown provider")
    verify(headers=headers, body=body)
    job = TrainingJob.objects.filter(pk=job_id, provider=provider).first()
    if job is None:
        raise NotFound("Training not found")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ValidationFailed("Webhook body is not JSON") from exc
    update = training_provider(provider).parse_webhook(job=job, payload=payload)
    if update is None:
        return "ignored"
    training_remote_apply(job=job, update=update)
    return "applied"


class TrainingWebhookView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="training_webhook",
        summary="Provider callback about a training (signature verified)",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request, provider: str, job_id):
        outcome = training_webhook_receive(provider=provider, job_id=job_id, headers=request.headers, body=request.body)
        return Response({"success": True, "status": outcome})
