"""``manage.py check``: a configured content-credentials signer that cannot sign is said at
start-up, not only in the log of every image stored unsigned."""

import io
import os

from django.conf import settings
from django.core import checks
from PIL import Image

from gallery.provenance import content_credentials_sign
from gallery.provenance.credentials import c2pa_installed


@checks.register("atelier")
def content_credentials_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    found = []
    anchors = settings.ATELIER_C2PA_TRUST_ANCHORS
    if anchors and not os.access(anchors, os.R_OK):
        found.append(
            checks.Warning(
                f"ATELIER_C2PA_TRUST_ANCHORS names {anchors}, which cannot be read: no signer reads as trusted.",
                id="gallery.W003",
            )
        )
    if not (settings.ATELIER_C2PA_CERT or settings.ATELIER_C2PA_KEY):
        return found
    if not (settings.ATELIER_C2PA_CERT and settings.ATELIER_C2PA_KEY):
        found.append(
            checks.Warning(
                "Only one of ATELIER_C2PA_CERT and ATELIER_C2PA_KEY is set: images are stored unsigned.",
                id="gallery.W001",
            )
        )
        return found
    if not c2pa_installed():
        found.append(
            checks.Warning(
                "A content-credentials signer is configured but c2pa-python is not installed: "
                "images are stored unsigned.",
                hint="pip install -r requirements/base.txt",
                id="gallery.W001",
            )
        )
        return found
    sample = io.BytesIO()
    Image.new("RGB", (8, 8)).save(sample, "PNG")
    try:
        content_credentials_sign(sample.getvalue(), "png", metadata={"model": "check"})
    except Exception as exc:  # noqa: BLE001 - whatever the SDK or the key says is the message
        found.append(
            checks.Warning(
                f"The content-credentials signer cannot sign, so images are stored unsigned: {exc}",
                hint="The chain must start with the signer's certificate (EC P-256/P-384, Ed25519 or RSA key; "
                "KeyUsage digitalSignature, an ExtendedKeyUsage such as emailProtection, subject and "
                "authority key identifiers, not a CA) and the key must be its unencrypted PEM private key.",
                id="gallery.W002",
            )
        )
    return found
