"""The application's exceptions. Each has a stable ``type`` and an HTTP status.

Services raise these; the DRF exception handler (core.exception_handler) renders them, DRF's own
errors and Django's in the error envelope of the API.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class ErrorType(StrEnum):
    VALIDATION_ERROR = "validation_error"
    PARSE_ERROR = "parse_error"
    AUTHENTICATION_REQUIRED = "authentication_required"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    CONFLICT = "conflict"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    RATE_LIMITED = "rate_limited"
    QUOTA_EXCEEDED = "quota_exceeded"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INVALID_IMAGE_URL = "invalid_image_url"
    PROVIDER_ERROR = "provider_error"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    SERVICE_BUSY = "service_busy"
    SERVER_ERROR = "server_error"


class ApplicationError(Exception):
    http_status = 400
    type = ErrorType.VALIDATION_ERROR
    default_message = "Bad request"

    def __init__(self, message: str | None = None, *, details: Any = None, **extra: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        self.extra = extra
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    default_message = "Validation failed"


class PayloadTooLarge(ApplicationError):
    http_status = 413
    type = ErrorType.PAYLOAD_TOO_LARGE
    default_message = "Request body too large"


class NotFound(ApplicationError):
    http_status = 404
    type = ErrorType.NOT_FOUND
    default_message = "Not found"


class Conflict(ApplicationError):
    http_status = 409
    type = ErrorType.CONFLICT
    default_message = "Conflict"


class IdempotencyConflict(Conflict):
    type = ErrorType.IDEMPOTENCY_CONFLICT
    default_message = "Idempotency-Key was already used with different parameters"


class InsufficientCredits(ApplicationError):
    http_status = 402
    type = ErrorType.INSUFFICIENT_CREDITS
    default_message = "Insufficient credits"


class LimitReached(ApplicationError):
    """A 429: a rate limit or a quota is used up. ``reached`` builds one that says which limit,
    what is left (nothing) and when it resets, in words (``details``), in the ``limit`` object
    for programs, and in ``Retry-After``."""

    http_status = 429

    @classmethod
    def reached(
        cls,
        *,
        limit: str,
        allowed: int,
        unit: str,
        window: str,
        resets_at: datetime,
        retry_after: int,
        message: str | None = None,
        counts: str | None = None,
    ) -> "LimitReached":
        at = resets_at.astimezone(UTC)
        stamp = at.isoformat(timespec="seconds").replace("+00:00", "Z")
        when = at.strftime("%H:%M:%S UTC") if retry_after < 86400 else at.strftime("%Y-%m-%d %H:%M UTC")
        details = f"Limit: {allowed} {unit} per {window}. Remaining: 0. Resets at {when}, in {_duration(retry_after)}."
        if counts:
            details += f" {counts}"
        return cls(
            message or f"Limit of {allowed} {unit} per {window} reached",
            details=details,
            limit={
                "name": limit,
                "limit": allowed,
                "remaining": 0,
                "window": window,
                "resets_at": stamp,
                "retry_after": retry_after,
            },
            resets_at=stamp,
            retry_after=retry_after,
        )


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    if seconds < 7200:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


class QuotaExceeded(LimitReached):
    type = ErrorType.QUOTA_EXCEEDED
    default_message = "Quota exceeded"


class ProviderError(ApplicationError):
    """The provider refused or failed the request (permanent)."""

    http_status = 502
    type = ErrorType.PROVIDER_ERROR
    default_message = "The provider failed to generate the image"


class ProviderUnavailable(ApplicationError):
    """The provider is not configured, busy or unreachable (may be transient)."""

    http_status = 503
    type = ErrorType.PROVIDER_UNAVAILABLE
    default_message = "The provider is unavailable"


class ProviderTransient(ProviderUnavailable):
    """A failure worth retrying: timeout, 429 or 5xx from the provider."""

    default_message = "The provider is busy; please try again"


class GPUBusy(ProviderUnavailable):
    """Seed 000's answer while its GPU side cannot take the request."""

    default_message = "GPU resources busy"


class DatabaseBusy(ApplicationError):
    """No database connection could be had in time (the pool stayed full, or the database
    refused another client): the request was not served and may be sent again."""

    http_status = 503
    type = ErrorType.SERVICE_BUSY
    default_message = "The service is busy; please try again shortly"

    def __init__(self, message: str | None = None, *, retry_after: int = 2, **extra):
        super().__init__(message, retry_after=retry_after, **extra)


class ComfyUIStartFailed(ApplicationError):
    http_status = 500
    type = ErrorType.SERVER_ERROR
    default_message = "ComfyUI could not be started"


class UrlRefused(ApplicationError):
    """A URL we will not fetch, or whose answer we will not use; ``message`` says why."""

    http_status = 400
    type = ErrorType.INVALID_IMAGE_URL
    default_message = "The URL was refused"


class WebhookRejected(ApplicationError):
    http_status = 401
    type = ErrorType.AUTHENTICATION_REQUIRED
    default_message = "Webhook signature could not be verified"


class RateLimited(LimitReached):
    type = ErrorType.RATE_LIMITED
    default_message = "Too many requests, please try again later"


class InvalidCredentials(ApplicationError):
    http_status = 401
    type = ErrorType.AUTHENTICATION_REQUIRED
    default_message = "Invalid credentials"

    def __init__(self, details=None):
        # Seed 001's clients read ``message``.
        super().__init__(details=details, message="Invalid credentials")
        self.extra["message"] = "Invalid credentials"


class AccountDisabled(ApplicationError):
    http_status = 403
    type = ErrorType.PERMISSION_DENIED
    default_message = "This account is disabled"
