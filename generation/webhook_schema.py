"""The OpenAPI description of what a generation's ``webhook_url`` receives: the ``image.*``
events in the Standard Webhooks envelope ``{"type", "timestamp", "data"}``, as a callback of
``POST /api/generate``. Shapes only; generation/webhook_payloads.py and the webhooks' receivers
make the bodies."""

from drf_spectacular.utils import OpenApiCallback, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers


class GenerationWebhookFacts(serializers.Serializer):
    user_id = serializers.IntegerField()
    team_id = serializers.UUIDField(allow_null=True, help_text="The team it was made in; null: personal")
    generation_id = serializers.UUIDField()
    status = serializers.CharField(help_text="The generation's status when the event was made")


class GenerationWebhookGeneration(GenerationWebhookFacts):
    user_uuid = serializers.UUIDField()
    prompt = serializers.CharField()
    model = serializers.CharField()


class GenerationWebhookImage(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField(help_text="image or video")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    format = serializers.CharField()
    url = serializers.URLField(help_text="Its download URL (signed in as the owner)")


class ImageGeneratedData(GenerationWebhookGeneration):
    image_id = serializers.UUIDField(allow_null=True, help_text="The first image")
    images = GenerationWebhookImage(many=True)


class ImageStartedData(GenerationWebhookGeneration):
    started_at = serializers.DateTimeField()


class ImageEndedData(GenerationWebhookGeneration):
    error = serializers.CharField()
    error_type = serializers.CharField(help_text="cancelled for a cancellation, else the error's type")
    finished_at = serializers.DateTimeField()


class GenerationWebhookLogLine(serializers.Serializer):
    at = serializers.DateTimeField()
    message = serializers.CharField()


class ImageLogData(GenerationWebhookFacts):
    lines = GenerationWebhookLogLine(many=True, help_text="The lines since the last image.log message, oldest first")


class GenerationWebhookPreview(serializers.Serializer):
    index = serializers.IntegerField(help_text="Counts the job's pictures from 0")
    url = serializers.CharField(help_text="Where the newest picture is read while the job runs")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    step = serializers.IntegerField(allow_null=True)
    total_steps = serializers.IntegerField(allow_null=True)


class ImagePreviewData(GenerationWebhookFacts):
    preview = GenerationWebhookPreview()


def _event(name: str, component: str, data: serializers.Serializer, description: str):
    return type(
        component,
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=[name], help_text=description),
            "timestamp": serializers.DateTimeField(help_text="When the message was made (UTC)"),
            "data": data,
            "Meta": type("Meta", (), {"ref_name": component}),
        },
    )


EVENTS = {
    "image.started": _event(
        "image.started", "ImageStartedWebhook", ImageStartedData(), "start: the provider work began (once)"
    ),
    "image.preview": _event(
        "image.preview", "ImagePreviewWebhook", ImagePreviewData(), "preview: the newest in-progress picture"
    ),
    "image.log": _event("image.log", "ImageLogWebhook", ImageLogData(), "logs: the provider's log lines"),
    "image.generated": _event(
        "image.generated", "ImageGeneratedWebhook", ImageGeneratedData(), "completed: the generation completed"
    ),
    "image.failed": _event("image.failed", "ImageFailedWebhook", ImageEndedData(), "completed: the generation failed"),
    "image.cancelled": _event(
        "image.cancelled", "ImageCancelledWebhook", ImageEndedData(), "completed: the generation was cancelled"
    ),
}

GENERATION_WEBHOOK = OpenApiCallback(
    "webhook_url",
    "{$request.body#/webhook_url}",
    extend_schema(
        summary="What the generation's webhook_url receives",
        description=(
            "Signed with the owner's webhook secret (Standard Webhooks headers webhook-id, "
            "webhook-timestamp, webhook-signature). The terminal event (image.generated, image.failed "
            "or image.cancelled) is always sent, once, after any log lines still waiting; image.started, "
            "image.preview and image.log only when webhook_events_filter names start, preview or logs, "
            "at most one message per type per ATELIER_WEBHOOK_EVENT_MIN_INTERVAL_MS (500 ms)."
        ),
        request=PolymorphicProxySerializer(
            component_name="GenerationWebhookEvent",
            serializers=EVENTS,
            resource_type_field_name="type",
        ),
        responses={200: OpenApiResponse(description="Any 2xx: received; another answer is retried")},
    ),
)
