"""One DRF exception handler for the application's errors, DRF's and Django's."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from core.envelope import error_body
from core.errors import ApplicationError, DatabaseBusy, ErrorType, PayloadTooLarge, ValidationFailed

logger = logging.getLogger(__name__)

_DRF_TYPES: list[tuple[type[drf.APIException], ErrorType, str]] = [
    (drf.ParseError, ErrorType.PARSE_ERROR, "Malformed request body"),
    (drf.NotAuthenticated, ErrorType.AUTHENTICATION_REQUIRED, "Authentication required"),
    (drf.AuthenticationFailed, ErrorType.AUTHENTICATION_REQUIRED, "Invalid or expired credentials"),
    (drf.PermissionDenied, ErrorType.PERMISSION_DENIED, "Permission denied"),
    (drf.NotFound, ErrorType.NOT_FOUND, "Not found"),
    (drf.MethodNotAllowed, ErrorType.METHOD_NOT_ALLOWED, "Method not allowed"),
    (drf.NotAcceptable, ErrorType.NOT_ACCEPTABLE, "Not acceptable"),
    (drf.UnsupportedMediaType, ErrorType.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
    (drf.Throttled, ErrorType.RATE_LIMITED, "Too many requests, please try again later"),
]


def _drf_error(exc: drf.APIException) -> tuple[str, ErrorType, object]:
    if isinstance(exc, drf.ValidationError):
        return "Validation failed", ErrorType.VALIDATION_ERROR, exc.detail
    for klass, error_type, message in _DRF_TYPES:
        if isinstance(exc, klass):
            detail = exc.detail if isinstance(exc.detail, str | list | dict) else str(exc.detail)
            return message, error_type, str(detail) if detail != message else None
    return str(exc.detail), ErrorType.SERVER_ERROR if exc.status_code >= 500 else ErrorType.VALIDATION_ERROR, None


def suspicious_request_error(exc: SuspiciousOperation) -> ApplicationError:
    """Django's refusals of hostile requests (too many fields or files, a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE, a malformed multipart body) as the client's error they are."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return PayloadTooLarge(details=f"A body other than files may hold at most {limit} bytes.")
    if isinstance(exc, TooManyFieldsSent):
        return ValidationFailed("Too many form fields", details=f"At most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}.")
    if isinstance(exc, TooManyFilesSent):
        return ValidationFailed("Too many files", details=f"At most {settings.DATA_UPLOAD_MAX_NUMBER_FILES}.")
    return ValidationFailed("Bad request", details="The request was refused as malformed.")


# What the database says when it cannot take the request now, as opposed to a broken query:
# psycopg_pool's PoolTimeout ("couldn't get a connection after N sec") and TooManyRequests,
# PostgreSQL refusing another client, and SQLite's lock still held after its busy timeout.
_BUSY_MESSAGES = (
    "couldn't get a connection",
    "too many requests waiting",
    "too many clients",
    "remaining connection slots are reserved",
    "database is locked",
)


def database_busy_error(exc: BaseException) -> DatabaseBusy | None:
    """The 503 to answer when ``exc`` means the database had no room for this request."""
    if not isinstance(exc, OperationalError):
        return None
    cause = exc.__cause__ or exc
    name = type(cause).__name__
    message = str(cause).lower()
    if name not in ("PoolTimeout", "TooManyRequests") and not any(text in message for text in _BUSY_MESSAGES):
        return None
    logger.warning("Database busy, answered 503: %s", str(cause).strip().splitlines()[0] if str(cause) else name)
    return DatabaseBusy()


def envelope_exception_handler(exc, context):
    if isinstance(exc, SuspiciousOperation):
        exc = suspicious_request_error(exc)
    exc = database_busy_error(exc) or exc
    if isinstance(exc, ApplicationError):
        body = error_body(error=exc.message, type=exc.type, status=exc.http_status, details=exc.details, **exc.extra)
        headers = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
        return Response(body, status=exc.http_status, headers=headers)

    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = drf.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)

    if isinstance(exc, drf.APIException):
        message, error_type, details = _drf_error(exc)
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        body = error_body(error=message, type=error_type, status=exc.status_code, details=details)
        return Response(body, status=exc.status_code, headers=headers)

    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
    body = error_body(error="Internal server error", type=ErrorType.SERVER_ERROR, status=500)
    return Response(body, status=500)
