"""Fetching a hosted provider's outputs into memory, so they can be stored with us.

Provider URLs expire (fal's CDN, replicate.delivery), ours must not: every output is downloaded
once, with a size cap, a content-type check and short timeouts. ``data:`` URIs (fal's and
Replicate's sync modes) are decoded under the same cap.
"""

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from django.conf import settings

from core.errors import ProviderError, ProviderTransient
from generation.providers.client_cache import shared_client

IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/webp": "webp"}
VIDEO_TYPES = {"video/mp4": "mp4"}


@dataclass(frozen=True)
class Download:
    data: bytes
    content_type: str

    @property
    def format(self) -> str:
        return {**IMAGE_TYPES, **VIDEO_TYPES}[self.content_type]


def download_output(url: str, *, provider: str, accept: dict[str, str] = IMAGE_TYPES) -> Download:
    """The bytes behind an output URL, or ProviderError/ProviderTransient saying what went wrong."""
    if not isinstance(url, str) or not url:
        raise ProviderError(f"{provider} answered with an output that has no URL")
    if url.startswith("data:"):
        return _decode_data_uri(url, provider=provider, accept=accept)
    if not url.startswith(("https://", "http://")):
        raise ProviderError(f"{provider} answered with an output URL we cannot fetch")
    return _fetch(url, provider=provider, accept=accept)


def _limit() -> int:
    return settings.ATELIER_PROVIDER_DOWNLOAD_MAX_BYTES


def _media_type(value: str) -> str:
    return value.split(";")[0].strip().lower()


def _decode_data_uri(url: str, *, provider: str, accept: dict[str, str]) -> Download:
    header, _, payload = url[5:].partition(",")
    content_type = _media_type(header) or "text/plain"
    if content_type not in accept:
        raise ProviderError(f"{provider} returned an output that is not a supported file ({content_type})")
    # Base64 needs about 4/3 of the decoded size; refuse before decoding anything larger.
    if len(payload) > _limit() * 4 // 3 + 4:
        raise ProviderError(f"{provider}'s output is larger than allowed")
    try:
        data = base64.b64decode(payload, validate=True) if ";base64" in header else unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise ProviderError(f"{provider} returned an output that is not valid base64") from exc
    if len(data) > _limit():
        raise ProviderError(f"{provider}'s output is larger than allowed")
    return Download(data=data, content_type=content_type)


def download_client():
    """One pooled client per process: outputs of a provider come from a few hosts, and a new
    TLS context and handshake per file would cost more than the download."""
    import httpx2

    return shared_client(
        "downloads",
        None,
        lambda: httpx2.Client(follow_redirects=True, limits=httpx2.Limits(max_keepalive_connections=10)),
    )


def _fetch(url: str, *, provider: str, accept: dict[str, str]) -> Download:
    import httpx2

    limit = _limit()
    timeout = httpx2.Timeout(settings.ATELIER_PROVIDER_DOWNLOAD_TIMEOUT_SECONDS, connect=5.0)
    try:
        with download_client().stream("GET", url, timeout=timeout) as response:
            status = response.status_code
            if status == 429 or status >= 500:
                raise ProviderTransient(f"Downloading {provider}'s output failed (HTTP {status})")
            if status != 200:
                raise ProviderError(f"{provider}'s output URL answered HTTP {status}")
            content_type = _media_type(response.headers.get("content-type", ""))
            if content_type not in accept:
                raise ProviderError(
                    f"{provider}'s output URL did not return a supported file ({content_type or 'no type'})"
                )
            data = read_capped(response, limit=limit, too_large=f"{provider}'s output is larger than allowed")
    except httpx2.TimeoutException as exc:
        raise ProviderTransient(f"Downloading {provider}'s output timed out") from exc
    except httpx2.TransportError as exc:
        raise ProviderTransient(f"Could not download {provider}'s output") from exc
    return Download(data=data, content_type=content_type)


def read_capped(response, *, limit: int, too_large: str) -> bytes:
    """A streamed response's body, refused (ProviderError ``too_large``) as soon as it is known
    to pass ``limit`` bytes: by its Content-Length, or while it streams."""
    if int(response.headers.get("content-length") or 0) > limit:
        raise ProviderError(too_large)
    chunks, total = [], 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > limit:
            raise ProviderError(too_large)
        chunks.append(chunk)
    return b"".join(chunks)
