"""Each call to a provider, timed and announced with its outcome (``provider_call_finished``).

The operator console keeps the figures (ops/provider_health.py receives the signal): generation
only says what happened, so it never imports the console above it.
"""

import logging
import time
from contextlib import contextmanager

from core.errors import ApplicationError
from generation.signals import provider_call_finished

logger = logging.getLogger(__name__)


def _is_failure(exc: BaseException | None) -> bool:
    # A request the provider refused as bad input (4xx of ours) is the provider working as it
    # should; timeouts, 5xx, refusals and crashes are what an operator needs to see.
    if exc is None:
        return False
    return not (isinstance(exc, ApplicationError) and exc.http_status < 500)


@contextmanager
def provider_call_timed(*, provider: str):
    """Times the block as one call to ``provider`` and announces its outcome; never raises itself."""
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        error = exc
        raise
    finally:
        results = provider_call_finished.send_robust(
            sender=None,
            provider=provider,
            duration_ms=round((time.perf_counter() - started) * 1000),
            ok=not _is_failure(error),
        )
        for receiver, result in results:
            if isinstance(result, Exception):
                # Measuring must never fail a generation.
                logger.warning("Could not record a call to %s (%s)", provider, receiver, exc_info=result)
