import sys

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.signals import got_request_exception
from django.db import connections
from django.http import HttpResponse, JsonResponse

from ops.envelope import error_body
from ops.errors import DatabaseBusy, ErrorType
from ops.exception_handler import database_busy_error, suspicious_request_error
from ops.request_context import accept_or_create, reset_request_id, set_request_id


class RequestIDMiddleware:
    """Gives every request an id (the client's X-Request-ID when sane) and echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept_or_create(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        if response.streaming:
            _release_database_connections()
        return response


def _release_database_connections() -> None:
    """A streaming answer (live events) outlasts its request, and the request's thread keeps its
    database connections until the stream ends. Every middleware has run by now (a session
    saved on the way out took a connection again): give them back to the pool, so that open
    streams hold none. A stream that reads the database takes one for each read."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


_STATUS_ERRORS = {
    400: ("Bad request", ErrorType.VALIDATION_ERROR),
    401: ("Authentication required", ErrorType.AUTHENTICATION_REQUIRED),
    403: ("Permission denied", ErrorType.PERMISSION_DENIED),
    404: ("Not found", ErrorType.NOT_FOUND),
    405: ("Method not allowed", ErrorType.METHOD_NOT_ALLOWED),
    406: ("Not acceptable", ErrorType.NOT_ACCEPTABLE),
    413: ("Request body too large", ErrorType.PAYLOAD_TOO_LARGE),
    415: ("Unsupported media type", ErrorType.UNSUPPORTED_MEDIA_TYPE),
    416: ("Range not satisfiable", ErrorType.VALIDATION_ERROR),
    429: ("Too many requests, please try again later", ErrorType.RATE_LIMITED),
}
# Headers of an error answer that a client needs to act on it (a 416 gives the file's size).
_KEPT_HEADERS = ("Retry-After", "Allow", "WWW-Authenticate", "Content-Range")


class APIErrorEnvelopeMiddleware:
    """API clients get every error in the envelope, whoever produced it.

    DRF views render their errors through ops.exception_handler; this covers the rest: Django's
    refusals of hostile bodies in plain views (too many fields or files, a body too large), the
    CSRF failure page, and, with DEBUG on, the debug pages of unmatched URLs and errors, which
    list every URL pattern and must never reach an API client.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and isinstance(getattr(request, "_atelier_database_busy", None), DatabaseBusy):
            # A middleware (a session read or save) found no database connection in time.
            return _busy_response(request, request._atelier_database_busy)
        if response.status_code < 400 or not wants_json(request) or _is_json(response):
            return response
        return _envelope_for(response)

    def process_exception(self, request, exception):
        busy = database_busy_error(exception)
        if busy is not None:
            return _busy_response(request, busy)
        if not isinstance(exception, SuspiciousOperation) or not wants_json(request):
            return None
        error = suspicious_request_error(exception)
        body = error_body(error=error.message, type=error.type, status=error.http_status, details=error.details)
        return JsonResponse(body, status=error.http_status)


def _busy_response(request, error: DatabaseBusy) -> HttpResponse:
    retry_after = str(error.extra["retry_after"])
    if wants_json(request):
        body = error_body(
            error=error.message, type=error.type, status=error.http_status, details=error.details, **error.extra
        )
        response = JsonResponse(body, status=error.http_status)
    else:
        response = HttpResponse(error.message, status=error.http_status, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = retry_after
    return response


def _remember_database_busy(sender, request=None, **kwargs) -> None:
    """Django turns an exception raised inside a middleware into a 500 before an outer
    middleware sees it; it sends this signal first, while the exception is being handled. A
    database that had no room is remembered, so that APIErrorEnvelopeMiddleware answers 503."""
    exception = sys.exc_info()[1]
    if request is not None and exception is not None:
        busy = database_busy_error(exception)
        if busy is not None:
            request._atelier_database_busy = busy


got_request_exception.connect(_remember_database_busy, dispatch_uid="ops.middleware.database_busy")


def wants_json(request) -> bool:
    """API paths always; elsewhere, clients that do not ask for HTML."""
    accept = request.headers.get("Accept", "")
    return "text/html" not in accept or request.path.startswith(("/api/", "/admin/api/", "/auth/"))


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith(("application/json", "application/problem+json"))


def _envelope_for(response) -> JsonResponse:
    status = response.status_code
    if status >= 500:
        message, error_type = "Internal server error", ErrorType.SERVER_ERROR
    else:
        message, error_type = _STATUS_ERRORS.get(status, ("Request refused", ErrorType.VALIDATION_ERROR))
    envelope = JsonResponse(error_body(error=message, type=error_type, status=status), status=status)
    for name in _KEPT_HEADERS:
        if name in response:
            envelope[name] = response[name]
    return envelope


class ContentSecurityPolicyMiddleware:
    """Sends ATELIER_CONTENT_SECURITY_POLICY with every HTML page (Django 5.2 has no CSP of its own)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.ATELIER_CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and response.get("Content-Type", "").startswith("text/html"):
            response.setdefault("Content-Security-Policy", self.policy)
        return response
