from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import JsonResponse

from ops.envelope import error_body
from ops.errors import ErrorType
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
        return response


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
        if response.status_code < 400 or not wants_json(request) or _is_json(response):
            return response
        return _envelope_for(response)

    def process_exception(self, request, exception):
        if not isinstance(exception, SuspiciousOperation) or not wants_json(request):
            return None
        from ops.exception_handler import suspicious_request_error

        error = suspicious_request_error(exception)
        body = error_body(error=error.message, type=error.type, status=error.http_status, details=error.details)
        return JsonResponse(body, status=error.http_status)


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
