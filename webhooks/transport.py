"""One delivery attempt: a signed POST through the URL guard, no redirects followed.

The target goes through the same checks as ``image_url`` (core/url_fetch.py):
http(s) only, public addresses only unless the host is allow-listed, the connection pinned to
the address that was checked. The answer's body is read up to a small cap for the log.
"""

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.utils import timezone

from core.numbers import parse_int
from core.url_fetch import UrlRefused, pinned_client, url_target_check

EXCERPT_BYTES = 2048
USER_AGENT = "Atelier-Webhooks/1.0"


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    latency_ms: int
    excerpt: str = ""
    error: str = ""
    retry_after: float | None = None
    refused: bool = False  # the URL itself was refused by the guard

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    seconds = parse_int(value)
    if seconds is not None:
        return float(seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def url_check(url: str) -> None:
    """Raises ``UrlRefused`` for a URL the webhooks would never send to."""
    url_target_check(url)


def post_signed(url: str, *, body: str, headers: dict[str, str]) -> AttemptResult:
    # Loaded on first use, as the URL guard's client is: no process pays for it at start-up.
    import httpx2

    timeout = settings.ATELIER_WEBHOOK_TIMEOUT_SECONDS
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        address = url_target_check(url).address
    except UrlRefused as exc:
        return AttemptResult(status_code=None, latency_ms=0, error=exc.message, refused=True)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    deadline = time.monotonic() + timeout
    try:
        connect = min(timeout, settings.ATELIER_URL_FETCH_CONNECT_TIMEOUT_SECONDS)
        with (
            pinned_client(address, timeout=timeout, connect_timeout=connect) as client,
            client.stream("POST", url, content=body.encode(), headers=headers) as response,
        ):
            excerpt = bytearray()
            for chunk in response.iter_bytes():
                excerpt.extend(chunk)
                if len(excerpt) >= EXCERPT_BYTES or time.monotonic() > deadline:
                    break
            return AttemptResult(
                status_code=response.status_code,
                latency_ms=elapsed(),
                excerpt=bytes(excerpt[:EXCERPT_BYTES]).decode("utf-8", errors="replace"),
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
                error=f"Redirect to {response.headers.get('location', '?')} not followed"
                if 300 <= response.status_code < 400
                else "",
            )
    except httpx2.TimeoutException:
        return AttemptResult(status_code=None, latency_ms=elapsed(), error=f"Timed out after {timeout:g} s")
    except httpx2.HTTPError as exc:
        return AttemptResult(status_code=None, latency_ms=elapsed(), error=f"{type(exc).__name__}: {exc}"[:500])
