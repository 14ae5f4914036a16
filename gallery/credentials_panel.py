"""The "Content credentials" panel of the asset page and the public share page: what the file
served there carries, in words a visitor reads (gallery.provenance reads the manifest)."""

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
    "c2pa.opened": "Opened an input image",
    "c2pa.transcoded": "Converted",
}

_RELATIONSHIPS = {"parentOf": "made from", "componentOf": "part of", "inputTo": "input to"}


def asset_credentials_panel(asset: Asset) -> dict:
    """The panel's rows for the asset's stored file (the file its pages show and serve)."""
    if asset.type != Asset.Type.IMAGE:
        return {"present": False}
    with asset.file.open("rb") as handle:
        found = content_credentials_read(handle.read())
    return credentials_panel(found)


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
        ("Actions", ", ".join(_ACTIONS.get(item["action"], item["action"]) for item in found.get("actions") or [])),
        (
            "Ingredients",
            "; ".join(
                f"{_RELATIONSHIPS.get(item['relationship'], item['relationship'])} {item['title']}".strip()
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
