"""Each provider's webhook signature scheme. A verifier returns the delivery's replay key or raises.

fal: ED25519 over ``request_id \\n user_id \\n timestamp \\n sha256_hex(body)`` (headers
``X-Fal-Webhook-*``, signature hex-encoded), checked against the keys of fal's JWKS, fetched from
FAL_WEBHOOK_JWKS_URL and cached. Replicate: Standard Webhooks, HMAC-SHA256 over
``webhook-id.webhook-timestamp.body`` with the account's signing secret (the setting, or fetched
once from Replicate's API and cached). Both refuse timestamps outside the tolerance.
"""

import base64
import binascii
import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache

from core.errors import ApplicationError, WebhookRejected
from core.numbers import parse_int
from generation.providers.replicate import fetch_signing_secret

logger = logging.getLogger(__name__)

FAL_JWKS_CACHE_KEY = "webhooks:fal:jwks"
REPLICATE_SECRET_CACHE_KEY = "webhooks:replicate:secret"  # noqa: S105 - a cache key, not a secret
# A signature no cached key verifies makes us re-read the JWKS (fal may have rotated its keys),
# at most this often.
FAL_JWKS_REFRESH_SECONDS = 60


def _check_timestamp(value: str) -> None:
    # Seconds since the epoch in ASCII digits; hundreds of digits would overflow the float below.
    timestamp = parse_int(value)
    if timestamp is None:
        raise WebhookRejected("Webhook timestamp is not a number")
    if abs(time.time() - timestamp) > settings.ATELIER_WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookRejected("Webhook timestamp is outside the allowed tolerance")


def verify_fal(*, headers, body: bytes) -> str:
    names = ("X-Fal-Webhook-Request-Id", "X-Fal-Webhook-User-Id", "X-Fal-Webhook-Timestamp", "X-Fal-Webhook-Signature")
    values = [headers.get(name) for name in names]
    if not all(values):
        raise WebhookRejected("Webhook is not signed")
    request_id, user_id, timestamp, signature_hex = values
    _check_timestamp(timestamp)
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError as exc:
        raise WebhookRejected("Webhook signature is malformed") from exc
    message = "\n".join([request_id, user_id, timestamp, hashlib.sha256(body).hexdigest()]).encode()
    if not _fal_signature_valid(signature, message):
        raise WebhookRejected()
    return f"fal:{hashlib.sha256(signature).hexdigest()}"


def _fal_signature_valid(signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    keys, fetched_at = _fal_keys(refresh=False)
    for attempt in range(2):
        for key in keys:
            try:
                key.verify(signature, message)
                return True
            except InvalidSignature:
                continue
        if attempt == 0 and time.time() - fetched_at > FAL_JWKS_REFRESH_SECONDS:
            keys, fetched_at = _fal_keys(refresh=True)
        else:
            break
    return False


def _fal_keys(*, refresh: bool):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    cached = None if refresh else cache.get(FAL_JWKS_CACHE_KEY)
    if cached is None:
        cached = {"keys": _fetch_fal_jwks(), "fetched_at": time.time()}
        cache.set(FAL_JWKS_CACHE_KEY, cached, settings.ATELIER_FAL_JWKS_CACHE_SECONDS)
    keys = []
    for raw in cached["keys"]:
        try:
            keys.append(Ed25519PublicKey.from_public_bytes(_b64url(raw)))
        except (ValueError, binascii.Error):
            continue
    return keys, cached["fetched_at"]


def _fetch_fal_jwks() -> list[str]:
    """The raw public keys (base64url) of fal's JWKS; an unreachable JWKS rejects the webhook."""
    import httpx2

    try:
        response = httpx2.get(settings.FAL_WEBHOOK_JWKS_URL, timeout=httpx2.Timeout(5.0))
        response.raise_for_status()
        document = response.json()
    except (httpx2.HTTPError, ValueError) as exc:
        logger.warning("Could not read fal's webhook keys from %s: %s", settings.FAL_WEBHOOK_JWKS_URL, exc)
        raise WebhookRejected("Webhook signing keys are unavailable") from exc
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise WebhookRejected("Webhook signing keys are unavailable")
    return [
        entry["x"]
        for entry in entries
        if isinstance(entry, dict) and entry.get("kty") == "OKP" and entry.get("crv") == "Ed25519" and entry.get("x")
    ]


def _b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def verify_replicate(*, headers, body: bytes) -> str:
    from replicate.webhook import Webhooks, WebhookSigningSecret, WebhookValidationError

    wanted = {name: headers.get(name) for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    if not all(wanted.values()):
        raise WebhookRejected("Webhook is not signed")
    _check_timestamp(wanted["webhook-timestamp"])
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookRejected("Webhook body is not UTF-8") from exc
    secret = WebhookSigningSecret(key=_replicate_secret())
    try:
        Webhooks.validate(
            headers=wanted, body=text, secret=secret, tolerance=settings.ATELIER_WEBHOOK_TOLERANCE_SECONDS
        )
    except (WebhookValidationError, ValueError) as exc:
        # The SDK's messages may quote the secret: never pass them on.
        raise WebhookRejected() from exc
    return f"replicate:{wanted['webhook-id']}"


def _replicate_secret() -> str:
    if settings.REPLICATE_WEBHOOK_SIGNING_SECRET:
        return settings.REPLICATE_WEBHOOK_SIGNING_SECRET
    secret = cache.get(REPLICATE_SECRET_CACHE_KEY)
    if secret:
        return secret

    try:
        secret = fetch_signing_secret()
    except ApplicationError as exc:
        logger.warning("Could not read Replicate's webhook signing secret: %s", exc.message)
        raise WebhookRejected("Webhook signing secret is unavailable") from exc
    cache.set(REPLICATE_SECRET_CACHE_KEY, secret, 24 * 3600)
    return secret


VERIFIERS = {"fal": verify_fal, "replicate": verify_replicate}
