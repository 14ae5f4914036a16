"""``/admin/api/webhooks``: staff manage the outbound webhook endpoints, see their deliveries,
redeliver, send a test event, rotate a secret; through the webhooks app's services and selectors."""

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.errors import NotFound
from core.schema import envelope
from ops.admin_api.base import StaffView
from webhooks import selectors, services
from webhooks.models import EVENT_NAMES, WebhookDelivery, WebhookEndpoint


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class EndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]


class EndpointWithSecretSerializer(EndpointSerializer):
    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class EndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2048)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_NAMES), allow_empty=True, default=list)
    secret = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EndpointUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2048, required=False)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_NAMES), required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class RotateInputSerializer(serializers.Serializer):
    secret = serializers.CharField(max_length=100, required=False, allow_blank=True)


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField()
    response_excerpt = serializers.CharField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()


class DeliverySerializer(serializers.ModelSerializer):
    message_id = serializers.CharField(source="message.id")
    event = serializers.CharField(source="message.event")
    attempt_log = AttemptSerializer(many=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "message_id",
            "event",
            "url",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "finished_at",
            "attempt_log",
        ]


# The answers as served: the success envelope around the object.
_ENDPOINT = envelope("WebhookEndpointResponse", "webhook", EndpointSerializer)
_WITH_SECRET = envelope("WebhookEndpointWithSecretResponse", "webhook", EndpointWithSecretSerializer)
_DELIVERY = envelope("WebhookDeliveryResponse", "delivery", DeliverySerializer)


def _endpoint(endpoint_id) -> WebhookEndpoint:
    endpoint = selectors.endpoint_get(endpoint_id=_uuid_or_none(endpoint_id))
    if endpoint is None:
        raise NotFound("Webhook endpoint not found")
    return endpoint


class EndpointListView(StaffView):
    results_key = "webhooks"

    @extend_schema(summary="Webhook endpoints", responses=EndpointSerializer(many=True))
    def get(self, request):
        return self.paginated(selectors.endpoint_list(), lambda page: EndpointSerializer(page, many=True).data)

    @extend_schema(
        summary="Add a webhook endpoint (secret generated unless given)",
        request=EndpointInputSerializer,
        responses={201: _WITH_SECRET},
    )
    def post(self, request):
        payload = EndpointInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(**payload.validated_data, created_by=request.user)
        return Response(
            {"success": True, "webhook": EndpointWithSecretSerializer(endpoint).data}, status=status.HTTP_201_CREATED
        )


class EndpointDetailView(StaffView):
    @extend_schema(summary="A webhook endpoint, with its secret", responses=_WITH_SECRET)
    def get(self, request, endpoint_id):
        return Response({"success": True, "webhook": EndpointWithSecretSerializer(_endpoint(endpoint_id)).data})

    @extend_schema(summary="Change a webhook endpoint", request=EndpointUpdateSerializer, responses=_ENDPOINT)
    def patch(self, request, endpoint_id):
        endpoint = _endpoint(endpoint_id)
        payload = EndpointUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=endpoint, **payload.validated_data)
        return Response({"success": True, "webhook": EndpointSerializer(endpoint).data})

    @extend_schema(summary="Delete a webhook endpoint", responses={204: None})
    def delete(self, request, endpoint_id):
        services.endpoint_delete(endpoint=_endpoint(endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointTestView(StaffView):
    @extend_schema(summary="Send a test event to the endpoint", request=None, responses={202: _DELIVERY})
    def post(self, request, endpoint_id):
        delivery = services.endpoint_send_test(endpoint=_endpoint(endpoint_id))
        return Response({"success": True, "delivery": _delivery_data(delivery)}, status=status.HTTP_202_ACCEPTED)


class EndpointRotateView(StaffView):
    @extend_schema(
        summary="Rotate the secret (the old one still signs for 24 hours)",
        request=RotateInputSerializer,
        responses=_WITH_SECRET,
    )
    def post(self, request, endpoint_id):
        endpoint = _endpoint(endpoint_id)
        payload = RotateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        endpoint = services.endpoint_rotate_secret(endpoint=endpoint, secret=payload.validated_data.get("secret"))
        return Response({"success": True, "webhook": EndpointWithSecretSerializer(endpoint).data})


class DeliveryListView(StaffView):
    results_key = "deliveries"

    @extend_schema(
        summary="The endpoint's deliveries, newest first, with every attempt", responses=DeliverySerializer(many=True)
    )
    def get(self, request, endpoint_id):
        deliveries = selectors.delivery_list(endpoint=_endpoint(endpoint_id))
        return self.paginated(deliveries, lambda page: DeliverySerializer(page, many=True).data)


class RedeliverView(StaffView):
    @extend_schema(summary="Send a delivery's message again", request=None, responses={202: _DELIVERY})
    def post(self, request, endpoint_id, delivery_id):
        endpoint = _endpoint(endpoint_id)
        delivery = selectors.delivery_get(endpoint=endpoint, delivery_id=_uuid_or_none(delivery_id))
        if delivery is None:
            raise NotFound("Delivery not found")
        again = services.delivery_redeliver(delivery=delivery)
        return Response({"success": True, "delivery": _delivery_data(again)}, status=status.HTTP_202_ACCEPTED)


def _delivery_data(delivery: WebhookDelivery) -> dict:
    # Read back after the on-commit send: in process, the first attempt has already happened.
    return DeliverySerializer(selectors.delivery_get(endpoint=delivery.endpoint, delivery_id=delivery.pk)).data
