"""fal.ai's ``fal-client`` SDK as every fal adapter uses it: one client per configuration, the
handle of a queued request, one call wrapper that turns what can go wrong into our errors,
cancel, and the events of an app's streaming endpoint.

fal-client reads its hosts from the environment (``FAL_RUN_HOST``, ``FAL_QUEUE_RUN_HOST``)
when it is first imported, so it is imported on first use here, never when Django starts (the
tests point it at their fake before that). The SDK retries what it deems transient itself (429,
408, 409, timeouts, connection errors, with backoff); what still fails after that comes back as
ProviderTransient and the job system retries it.
"""

import logging
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import ApplicationError, ProviderError, ProviderTransient, ValidationFailed
from generation.providers.client_cache import shared_client

logger = logging.getLogger(__name__)

# What the SDK's status of a queued request says, as ``fal_state`` names it.
QUEUED, IN_PROGRESS, COMPLETED = "queued", "in_progress", "completed"


def fal_sdk_client():
    """One SDK client (and its connection pool) per configuration, shared by the worker's threads."""
    # Imported on first use: the SDK reads its hosts from the environment when it is imported.
    import fal_client

    key, timeout = settings.FAL_KEY, settings.ATELIER_FAL_TIMEOUT_SECONDS
    return shared_client("fal", (key, timeout), lambda: fal_client.SyncClient(key=key, default_timeout=timeout))


def fal_handle(request_ref: str):
    """The SDK's handle for a job, from the reference kept at submit: its ``response_url``,
    ``https://<queue host>/<app>/requests/<id>``, whose app path status, result and cancel need.

    The handle speaks to the host the SDK is configured for, so our key never follows a URL an
    answer names."""
    application = urlsplit(request_ref).path.strip("/").partition("/requests/")[0]
    return fal_sdk_client().get_handle(application, request_id_of(request_ref))


def request_id_of(request_ref: str) -> str:
    return request_ref.rstrip("/").rsplit("/", 1)[-1]


def fal_state(status) -> str | None:
    """``QUEUED``, ``IN_PROGRESS`` or ``COMPLETED`` for a status the SDK answered; None for
    anything else."""
    # Imported on first use, as in fal_sdk_client.
    from fal_client import Completed, InProgress, Queued

    for kind, state in ((Queued, QUEUED), (InProgress, IN_PROGRESS), (Completed, COMPLETED)):
        if isinstance(status, kind):
            return state
    return None


def fal_call(function):
    """Runs one SDK call, turning what can go wrong into our errors."""
    # Imported on first use, as in fal_sdk_client (httpx too: no process pays for it at start-up).
    import httpx
    from fal_client import FalClientHTTPError

    try:
        return function()
    except FalClientHTTPError as exc:
        raise _mapped(exc) from exc
    except httpx.TimeoutException as exc:
        raise ProviderTransient("fal did not answer in time") from exc
    except httpx.TransportError as exc:
        raise ProviderTransient("Could not reach fal") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # A 2xx whose body is not JSON, lacks the fields the SDK reads, or names an unknown status.
        raise ProviderError("fal returned an answer that could not be read") from exc


class StreamRefused(Exception):
    """fal answered a ``/stream`` call with something other than an event stream (an error
    status, or an app without a streaming endpoint); the SDK does not say which."""


def fal_stream(application: str, arguments: dict):
    """The events of a call to the app's ``/stream`` endpoint, through the SDK's ``stream``.

    Raises StreamRefused when fal answers with no event stream, before any event; other
    failures are mapped as ``fal_call`` maps them. Each read waits at most the client's timeout
    (the SDK would wait for ever: it passes no timeout of its own)."""
    # Imported on first use, as in fal_sdk_client.
    from httpx_sse import SSEError

    events = fal_sdk_client().stream(application, arguments, timeout=settings.ATELIER_FAL_TIMEOUT_SECONDS)

    def next_event():
        try:
            return next(events, None)
        except SSEError as exc:
            raise StreamRefused(str(exc)) from exc

    while (event := fal_call(next_event)) is not None:
        yield event


def fal_cancel(request_ref: str) -> bool:
    """Asks fal to stop a queued or running request; False when there is nothing left to stop."""
    # Imported on first use, as in fal_sdk_client.
    from fal_client import FalClientHTTPError

    try:
        fal_handle(request_ref).cancel()
    except FalClientHTTPError as exc:
        # 400 ALREADY_COMPLETED / 404 NOT_FOUND: nothing left to stop upstream.
        logger.info("fal did not cancel %s (HTTP %s)", request_id_of(request_ref), exc.status_code)
        return False
    return True


def fal_validation_error(detail) -> ValidationFailed:
    """Our 400 for an input fal refused, with fal's own detail."""
    return ValidationFailed(f"fal refused the input: {_summary(detail)}", details={"provider": detail})


def _mapped(exc) -> ApplicationError:
    status = exc.status_code
    if status in (401, 403):
        # For the operator; the key itself is never logged.
        logger.error("fal rejected our credentials (HTTP %s): check FAL_KEY", status)
        return ProviderError("The provider rejected our credentials")
    if status in (400, 422):
        body = _json(exc.response)
        detail = body.get("detail", exc.message) if isinstance(body, dict) else exc.message
        return fal_validation_error(detail)
    if status == 429:
        return ProviderTransient("fal rate limit reached")
    if status >= 500 or status in (408, 409):
        return ProviderTransient(f"fal is unavailable (HTTP {status})")
    return ProviderError(f"fal failed the request (HTTP {status}): {str(exc.message)[:300]}")


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None


def _summary(detail) -> str:
    """FastAPI-style ``[{"loc": [...], "msg": ...}]`` as one line; anything else as text."""
    if isinstance(detail, list):
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc = [str(part) for part in item.get("loc") or [] if part != "body"]
                message = str(item.get("msg") or item)
                parts.append(f"{'.'.join(loc)}: {message}" if loc else message)
            else:
                parts.append(str(item))
        return "; ".join(parts)[:500] or "invalid input"
    return str(detail or "invalid input")[:500]
