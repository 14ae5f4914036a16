"""The "Content credentials" panel of the asset page and the public share page: what the file
served there carries, in words a visitor reads (gallery.provenance reads the manifest)."""

import hashlib

from django.conf import settings
from django.core.cache import cache

from gallery.models import Asset
from gallery.provenance import content_credentials_read
from gallery.provenance.signing import TRAINED_ALGORITHMIC_MEDIA

_STATES = {
    "valid": ("Verified", "ok", "Signed by a trusted signer and unchanged since."),
    "untrusted": (
        "Signed",
        "warn",
        "Unchanged since it was signed; the signer is not on this server's trust list.",
    ),
    "invalid": ("Altered", "off", "The file was changed after it was signed, or its credentials are broken."),
}

_ACTIONS = {
    "c2pa.created": "Created",
    "c2pa.edited": "Edited",
    "c2pa.opened": "Opened",
    "c2pa.transcoded": "Converted",
    "c2pa.edited.metadata": "Metadata edited (prompts taken out)",
}

_RELATIONSHIPS = {"parentOf": "made from:", "componentOf": "part of:", "inputTo": "input to:"}


# A public share page may be seen often: its file is read and validated once per this long
# (the stored file never changes; the key follows it and the configured trust anchors).
PANEL_CACHE_SECONDS = 600


def asset_credentials_panel(asset: Asset, *, name: str | None = None) -> dict:
    """The panel's rows for one of the asset's stored files: ``name`` (a share link's copy
    without prompts), or the asset's own file. Each page shows the file it serves."""
    if asset.type != Asset.Type.IMAGE:
        return {"present": False}
    name = name or asset.file.name
    trust = hashlib.sha256(settings.ATELIER_C2PA_TRUST_ANCHORS.encode()).hexdigest()[:16]
    key = f"gallery:credentials-panel:{asset.pk}:{name}:{asset.file_size}:{trust}"
    panel = cache.get(key)
    if panel is None:
        with asset.file.storage.open(name, "rb") as handle:
            panel = credentials_panel(content_credentials_read(handle.read()))
        cache.set(key, panel, PANEL_CACHE_SECONDS)
    return panel


def credentials_panel(found: dict) -> dict:
    if not found.get("present"):
        return {"present": False, "available": found.get("available", False)}
    label, tone, meaning = _STATES.get(found.get("state", ""), _STATES["invalid"])
    source_type = found.get("digital_source_type") or ""
    if source_type == TRAINED_ALGORITHMIC_MEDIA:
        source_type = "an AI model (trained algorithmic media)"
    rows = [
        ("Made by", source_type),
        ("Model", found.get("software_agent")),
        ("Actions", " → ".join(_ACTIONS.get(item["action"], item["action"]) for item in found.get("actions") or [])),
        (
            "Ingredients",
            "; ".join(
                f"{_RELATIONSHIPS.get(item['relationship'], item['relationship'])} {item['title']}"
                f"{', with its own credentials' if item['has_manifest'] else ''}".strip()
                for item in found.get("ingredients") or []
            ),
        ),
        ("App", found.get("claim_generator")),
        ("Signed by", " · ".join(part for part in (found.get("signer"), found.get("issuer")) if part)),
        ("Signed at", (found.get("signed_at") or "").replace("T", " ").replace("Z", " UTC")),
    ]
    return {
        "present": True,
        "state": found.get("state"),
        "label": label,
        "tone": tone,
        "meaning": meaning,
        "rows": [(name, value) for name, value in rows if value],
        "codes": [item["code"] for item in found.get("status") or [] if item.get("code")],
    }
