"""The operator's content-credentials material: the signer (certificate chain and key, from
``ATELIER_C2PA_CERT`` / ``ATELIER_C2PA_KEY``) and what readers trust (``ATELIER_C2PA_TRUST_ANCHORS``).

``c2pa-python`` is imported only here and in the modules that sign and read, and only when it is
used: without it, or without a certificate, outputs are stored unsigned and nothing else changes.
"""

import functools
import importlib.util
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.conf import settings


class CredentialsError(Exception):
    """The configured certificate or key cannot sign."""


# The C2PA algorithm of each kind of key (RSA signs with PSS: C2PA refuses PKCS#1 v1.5).
_EC_ALGORITHMS = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}


@dataclass(frozen=True)
class SigningMaterial:
    alg: str
    chain: bytes
    key: bytes
    tsa_url: str | None


def c2pa_installed() -> bool:
    return importlib.util.find_spec("c2pa") is not None


def signing_enabled() -> bool:
    """Whether outputs are signed: a certificate and a key are configured and the SDK is there."""
    return bool(settings.ATELIER_C2PA_CERT and settings.ATELIER_C2PA_KEY) and c2pa_installed()


def signing_material() -> SigningMaterial:
    """The chain, key and algorithm, read once per process (again when a file changes)."""
    cert, key = settings.ATELIER_C2PA_CERT, settings.ATELIER_C2PA_KEY
    try:
        stamp = (os.stat(cert).st_mtime_ns, os.stat(key).st_mtime_ns)
    except OSError as exc:
        raise CredentialsError(f"the signing certificate or key cannot be read: {exc}") from exc
    return _material(cert, key, stamp, settings.ATELIER_C2PA_TSA_URL or None)


@functools.lru_cache(maxsize=4)
def _material(cert: str, key: str, stamp: tuple, tsa_url: str | None) -> SigningMaterial:
    with open(cert, "rb") as handle:
        chain = handle.read()
    with open(key, "rb") as handle:
        key_pem = handle.read()
    return SigningMaterial(alg=key_algorithm(key_pem), chain=chain, key=key_pem, tsa_url=tsa_url)


def key_algorithm(key_pem: bytes) -> str:
    """The C2PA signing algorithm a PEM private key signs with."""
    try:
        private = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CredentialsError(f"the signing key is not an unencrypted PEM private key: {exc}") from exc
    if isinstance(private, ec.EllipticCurvePrivateKey):
        try:
            return _EC_ALGORITHMS[private.curve.name]
        except KeyError:
            raise CredentialsError(f"C2PA cannot sign with the curve {private.curve.name}") from None
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(private, rsa.RSAPrivateKey):
        return "ps256"
    raise CredentialsError(f"C2PA cannot sign with a {type(private).__name__}")


def trust_anchors() -> str | None:
    """The PEM roots readers trust besides the SDK's own, when configured."""
    path = settings.ATELIER_C2PA_TRUST_ANCHORS
    if not path:
        return None
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return None
    return _read_text(path, stamp)


@functools.lru_cache(maxsize=4)
def _read_text(path: str, stamp: int) -> str:
    with open(path, encoding="ascii") as handle:
        return handle.read()
