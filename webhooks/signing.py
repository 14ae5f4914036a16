"""Standard Webhooks secrets and signatures (PROTOCOLS.md §6), with the reference library."""

import base64
import binascii
import secrets as random_secrets
from datetime import datetime

from standardwebhooks import Webhook

PREFIX = "whsec_"
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64


def secret_new() -> str:
    """A new random secret in the spec's form: ``whsec_`` + base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(random_secrets.token_bytes(32)).decode()


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` is not a usable Standard Webhooks secret, or None when it is."""
    if not secret.startswith(PREFIX):
        return f"A secret starts with '{PREFIX}' followed by base64 of {MIN_KEY_BYTES}–{MAX_KEY_BYTES} random bytes."
    try:
        key = base64.b64decode(secret[len(PREFIX) :] + "==", validate=False)
    except (binascii.Error, ValueError):
        return "The part after 'whsec_' is not base64."
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        return f"The key must be {MIN_KEY_BYTES}–{MAX_KEY_BYTES} bytes long (it is {len(key)})."
    return None


def signature_header(*, msg_id: str, timestamp: datetime, body: str, secrets: list[str]) -> str:
    """``webhook-signature``: one ``v1,<base64>`` entry per secret (two while one is rotated)."""
    return " ".join(Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets if secret)
