"""API key format: ``atl_<prefix>_<secret>``. The prefix is public, the secret is hashed."""

import hashlib
import hmac
import secrets

KEY_PREFIX = "atl"


def generate_key() -> tuple[str, str, str]:
    """Returns (full key, prefix, hash)."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    full = f"{KEY_PREFIX}_{prefix}_{secret}"
    return full, prefix, hash_key(full)


def hash_key(full_key: str) -> str:
    return hashlib.sha256(full_key.encode()).hexdigest()


def split_prefix(full_key: str) -> str | None:
    parts = full_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1]:
        return None
    return parts[1]


def matches(full_key: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_key(full_key), key_hash)
