from datetime import UTC, datetime

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, HttpResponseRedirect, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.envelope import error_body
from core.errors import ErrorType
from core.middleware import wants_json
from ops.health import run_health_checks


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
        if not wants_json(request):
            # A person who opens /health in a browser reads the same report on the status page
            # (signed in there, which this view for load balancers never looks up); machines
            # keep the JSON.
            response = HttpResponseRedirect(reverse("status"))
        else:
            body = _health_report()
            response = Response(body, status=200 if body["status"] == "ok" else 503)
        response["Vary"] = "Accept"
        return response


def _health_report() -> dict:
    checks = run_health_checks()
    healthy = all(c["status"] == "ok" for c in checks.values())
    return {
        "status": "ok" if healthy else "error",
        "message": "Atelier is running" if healthy else "Atelier is degraded",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "checks": checks,
    }


# What each check of /health means to a person, in the order the status page lists them.
_CHECK_NAMES = {
    "database": ("Database", "Accounts, generations and credits are read and saved."),
    "cache": ("Cache", "Rate limits and live progress are shared between processes."),
    "broker": ("Message broker", "New generations reach the workers."),
    "storage": ("File storage", "Images and videos are saved and delivered."),
    "workers": ("Workers", "Generations and trainings are being run."),
}


def status_page(request):
    """/health as a page: each check in words, with the same status code (200, or 503 when one fails)."""
    report = _health_report()
    healthy = report["status"] == "ok"
    status = 200 if healthy else 503
    try:
        # What failed is a detail of the deployment: only operators read it.
        show_errors = request.user.is_staff
    except Exception:  # noqa: BLE001 - the signed-in user lives in the database that may be down
        show_errors = False
    rank = {key: index for index, key in enumerate(_CHECK_NAMES)}
    checks = []
    for key, check in sorted(report["checks"].items(), key=lambda item: rank.get(item[0], len(rank))):
        name, description = _CHECK_NAMES.get(key, (key.capitalize(), ""))
        error = check.get("error", "") if show_errors else ""
        checks.append({"name": name, "description": description, "ok": check["status"] == "ok", "error": error})
    context = {
        "healthy": healthy,
        "checks": checks,
        "checked_at": datetime.now(UTC),
        "health_url": request.build_absolute_uri(reverse("health")),
    }
    try:
        return render(request, "status.html", context, status=status)
    except Exception:  # noqa: BLE001 - the page's signed-in header reads the database too
        return HttpResponse(render_to_string("status.html", context), status=status)


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
    try:
        return _error_response(
            request,
            status=500,
            message="Internal server error",
            error_type=ErrorType.SERVER_ERROR,
            template="error.html",
        )
    except Exception:  # noqa: BLE001 - whatever broke the view may break the page's header too
        # The page without the request: no signed-in header, nothing read from the database
        # (what Django's own server_error does).
        return HttpResponseServerError(
            render_to_string("error.html", {"status": 500, "message": "Internal server error"})
        )
