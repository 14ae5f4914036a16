from datetime import UTC, datetime

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ops.envelope import error_body
from ops.errors import ErrorType
from ops.health import run_health_checks
from ops.middleware import wants_json


class HealthCheckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "error"])
    error = serializers.CharField(required=False, help_text="Why the check failed")
    duration_ms = serializers.FloatField()


_HEALTH = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "error"]),
        "message": serializers.CharField(),
        "timestamp": serializers.DateTimeField(),
        "checks": serializers.DictField(child=HealthCheckSerializer(), help_text="By name: database, cache, …"),
    },
)


class HealthView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    ratelimit_group = None  # load balancers poll it

    @extend_schema(
        summary="Health of the database, cache, broker, storage and workers",
        responses={200: _HEALTH, 503: OpenApiResponse(_HEALTH, description="A check failed; the same report")},
    )
    def get(self, request):
        checks = run_health_checks()
        healthy = all(c["status"] == "ok" for c in checks.values())
        body = {
            "status": "ok" if healthy else "error",
            "message": "Atelier is running" if healthy else "Atelier is degraded",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "checks": checks,
        }
        return Response(body, status=200 if healthy else 503)


def _error_response(request, *, status: int, message: str, error_type: ErrorType, template: str):
    if wants_json(request):
        return JsonResponse(error_body(error=message, type=error_type, status=status), status=status)
    return render(request, template, {"status": status, "message": message}, status=status)


def not_found(request, exception=None):
    return _error_response(
        request, status=404, message="Not found", error_type=ErrorType.NOT_FOUND, template="error.html"
    )


def permission_denied(request, exception=None):
    return _error_response(
        request,
        status=403,
        message="Permission denied",
        error_type=ErrorType.PERMISSION_DENIED,
        template="error.html",
    )


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return _error_response(
            request,
            status=413,
            message="Request body too large",
            error_type=ErrorType.PAYLOAD_TOO_LARGE,
            template="error.html",
        )
    return _error_response(
        request, status=400, message="Bad request", error_type=ErrorType.VALIDATION_ERROR, template="error.html"
    )


def server_error(request):
    return _error_response(
        request,
        status=500,
        message="Internal server error",
        error_type=ErrorType.SERVER_ERROR,
        template="error.html",
    )
