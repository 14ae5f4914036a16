"""Replicate's ``replicate`` SDK as every Replicate adapter uses it: one client per
configuration, one call wrapper that turns what can go wrong into our errors, and cancel for
predictions and trainings.

The SDK sends POSTs once (the job system retries them with its backoff) and retries GETs on
429/503/504 itself. It is imported on first use: loading it (with httpx and pydantic) would cost
every process about a second at start-up.
"""

import logging

from django.conf import settings

from core.errors import ApplicationError, ProviderError, ProviderTransient, ValidationFailed
from generation.providers.client_cache import shared_client

logger = logging.getLogger(__name__)


def replicate_sdk_client():
    """One SDK client per configuration in this process (its connection pool and TLS context)."""
    # Imported on first use (see the module's docstring).
    import replicate

    seconds = settings.ATELIER_REPLICATE_TIMEOUT_SECONDS
    configuration = (settings.REPLICATE_API_TOKEN, settings.REPLICATE_BASE_URL, seconds)

    def build():
        timeout = replicate_timeout()

        def bounded(request) -> None:
            # The SDK sends creates with timeout=None (no limit at all) unless it is asked to
            # wait; a request without any limit gets ours, so a hung connection cannot hold
            # the worker.
            if not any(request.extensions.get("timeout", {}).values()):
                request.extensions["timeout"] = timeout.as_dict()

        return replicate.Client(
            api_token=settings.REPLICATE_API_TOKEN,
            base_url=settings.REPLICATE_BASE_URL or None,
            timeout=timeout,
            event_hooks={"request": [bounded]},
        )

    return shared_client("replicate", configuration, build)


def replicate_timeout():
    """The time limits of every request to Replicate (connect at most 5 s)."""
    # Imported on first use (see the module's docstring).
    import httpx

    seconds = settings.ATELIER_REPLICATE_TIMEOUT_SECONDS
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def replicate_call(function):
    """Runs one SDK call, turning what can go wrong into our errors."""
    # Imported on first use (see the module's docstring).
    import httpx
    import pydantic
    from replicate.exceptions import ReplicateError

    try:
        return function()
    except ReplicateError as exc:
        raise _mapped(exc) from exc
    except httpx.TimeoutException as exc:
        raise ProviderTransient("Replicate did not answer in time") from exc
    except httpx.TransportError as exc:
        raise ProviderTransient("Could not reach Replicate") from exc
    except (pydantic.ValidationError, ValueError, KeyError, TypeError) as exc:
        # A 2xx whose body is not JSON or is not a prediction.
        raise ProviderError("Replicate returned an answer that could not be read") from exc


def replicate_progress(logs: str) -> int | None:
    """Percent done from the progress bar a model prints in its logs, or None."""
    # Imported on first use (see the module's docstring).
    from replicate.prediction import Prediction

    progress = Prediction.Progress.parse(logs)
    return None if progress is None else round(progress.percentage * 100)


def prediction_events(prediction, *, seconds: float):
    """The events of a prediction's stream (``urls.stream``), through the SDK's
    ``Prediction.stream``, for at most ``seconds``: ``(event type, data)`` pairs, the data of an
    ``output`` event a string (a file output's URL). Stops at ``done``, when the time is up
    (checked between events; each read waits at most the client's timeout), or at the first
    failure, which is logged: a prediction that is not followed here is followed by polls."""
    import time

    deadline = time.monotonic() + seconds
    try:
        for event in prediction.stream():
            data = event.data
            yield event.event.value, getattr(data, "url", data)
            if time.monotonic() >= deadline:
                return
    except Exception as exc:  # noqa: BLE001 - the SDK raises errors of httpx, pydantic and its own
        logger.info("Stopped following the stream of Replicate prediction %s: %s", prediction.id, exc)


def prediction_cancel(prediction_id: str) -> bool:
    """Cancels a prediction; True when Replicate says it is cancelled."""
    prediction = replicate_call(lambda: replicate_sdk_client().predictions.cancel(prediction_id))
    return getattr(prediction, "status", "") == "canceled"


def training_cancel(training_id: str) -> bool:
    """Cancels a training; True when Replicate says it is cancelled."""
    training = replicate_call(lambda: replicate_sdk_client().trainings.cancel(training_id))
    return getattr(training, "status", "") == "canceled"


def _mapped(exc) -> ApplicationError:
    status = exc.status or 0
    detail = str(exc.detail or exc.title or "invalid input")[:500]
    if status in (401, 403):
        # For the operator; the token itself is never logged.
        logger.error("Replicate rejected our credentials (HTTP %s): check REPLICATE_API_TOKEN", status)
        return ProviderError("The provider rejected our credentials")
    if status in (400, 422):
        return ValidationFailed(f"Replicate refused the input: {detail}", details={"provider": detail})
    if status == 429:
        return ProviderTransient("Replicate rate limit reached")
    if status >= 500 or status in (408, 409):
        return ProviderTransient(f"Replicate is unavailable (HTTP {status})")
    return ProviderError(f"Replicate failed the request (HTTP {status}): {detail}")
