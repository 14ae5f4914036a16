"""Signing images with a C2PA manifest (content credentials), with ``c2pa-python``.

What a manifest says: ``c2pa.actions`` with ``c2pa.created`` (or, when the image was made from
another one, ``c2pa.opened`` on that input image as the parent ingredient, then ``c2pa.edited``),
the IPTC digital source type ``trainedAlgorithmicMedia``, the model as the ``softwareAgent``, and
Atelier and its version as the claim generator. A conversion (PNG ↔ JPEG ↔ WebP) is signed again:
the original file, manifest and all, becomes its parent, and the new manifest says
``c2pa.transcoded`` (``c2pa.edited.metadata`` for a copy whose metadata Atelier changed, e.g. a
share link's copy without prompts).

The manifest is bound to the file's bytes, metadata included: sign after embedding, never before.
"""

import io
from datetime import UTC, datetime

from django.conf import settings

from gallery.provenance.credentials import signing_material

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

MIME_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "tiff": "image/tiff",
}

# The label the input image's ingredient has in the manifest, which the actions point at.
_PARENT = "parent"


def image_format(data: bytes) -> str | None:
    """The format of an encoded image from its first bytes, among those that carry C2PA
    manifests and that an upload may be (Atelier signs PNG, JPEG and WebP; it reads GIF and TIFF too)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def _claim_generator() -> list[dict]:
    return [{"name": "Atelier", "version": settings.ATELIER_VERSION}]


def _software_agent(metadata: dict) -> dict:
    model = metadata.get("model") or "unknown model"
    agent = {"name": model}
    if metadata.get("provider"):
        agent["version"] = f"via {metadata['provider']}"
    return agent


def generation_manifest(metadata: dict, *, edited: bool) -> dict:
    """The manifest definition of a generated image (``metadata``: gallery.provenance's dict)."""
    when = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    made = {
        "action": "c2pa.edited" if edited else "c2pa.created",
        "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
        "softwareAgent": _software_agent(metadata),
        "when": when,
    }
    actions = [made]
    if edited:
        actions.insert(0, {"action": "c2pa.opened", "parameters": {"ingredientIds": [_PARENT]}, "when": when})
    title = f"Atelier image {metadata['generation_id']}" if metadata.get("generation_id") else "Atelier image"
    return {
        "claim_generator_info": _claim_generator(),
        "title": title,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}],
    }


def derived_manifest(*, action: str, title: str) -> dict:
    """The manifest of a file Atelier made from one of its own: the original is opened (the
    parent ingredient), then ``action`` (``c2pa.transcoded``, ``c2pa.edited.metadata``)."""
    when = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "claim_generator_info": _claim_generator(),
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {"action": "c2pa.opened", "parameters": {"ingredientIds": [_PARENT]}, "when": when},
                        {
                            "action": action,
                            "softwareAgent": {"name": "Atelier", "version": settings.ATELIER_VERSION},
                            "when": when,
                        },
                    ]
                },
            }
        ],
    }


def content_credentials_sign(data: bytes, fmt: str, *, metadata: dict, ingredient: bytes | None = None) -> bytes:
    """``data`` (an encoded ``fmt`` image, metadata already inside) signed as a generated image.

    ``ingredient`` is the input image of an image-to-image or inpainting generation: it becomes
    the parent and the action is ``c2pa.edited``. Raises ``c2pa.C2paError`` or
    ``CredentialsError`` when it cannot sign.
    """
    parent_format = image_format(ingredient) if ingredient else None
    manifest = generation_manifest(metadata, edited=parent_format is not None)
    parent = None
    if parent_format is not None:
        title = "Input image"
        source = metadata.get("source") or {}
        if source.get("asset_id"):
            title = f"Input image (asset {source['asset_id']})"
        parent = (ingredient, parent_format, title)
    return _sign(data, fmt, manifest, parent=parent)


def content_credentials_transcode(data: bytes, to: str, *, original: bytes) -> bytes:
    """A conversion ``data`` (format ``to``) signed with ``original`` as its parent."""
    return content_credentials_derive(
        data, to, original=original, action="c2pa.transcoded", title=f"Converted to {to.upper()}"
    )


def content_credentials_derive(data: bytes, fmt: str, *, original: bytes, action: str, title: str) -> bytes:
    """``data`` (format ``fmt``), which Atelier made from ``original``, signed with ``original``
    (its manifest inside) as the parent and ``action`` saying what was done: ``c2pa.transcoded``
    for a conversion, ``c2pa.edited.metadata`` for a copy whose metadata lost its prompts."""
    original_format = image_format(original)
    if original_format is None:
        raise ValueError("the original is not a PNG, JPEG or WebP file")
    manifest = derived_manifest(action=action, title=title)
    return _sign(data, fmt, manifest, parent=(original, original_format, "Original image"))


def _sign(data: bytes, fmt: str, manifest: dict, *, parent: tuple | None) -> bytes:
    import c2pa

    material = signing_material()
    mime = MIME_TYPES[fmt.lower()]
    context = c2pa.Context.from_dict(
        {
            # A thumbnail would be an image the size of a small output again, in every file.
            "builder": {"thumbnail": {"enabled": False}},
            # Signing checks its own result, but never fetches anything to do so.
            "verify": {"ocsp_fetch": False, "remote_manifest_fetch": False},
        }
    )
    info = c2pa.C2paSignerInfo(
        material.alg.encode(), material.chain, material.key, material.tsa_url.encode() if material.tsa_url else None
    )
    out = io.BytesIO()
    with context, c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest, context) as builder:
        if parent is not None:
            payload, parent_format, title = parent
            builder.add_ingredient(
                {"title": title, "relationship": "parentOf", "label": _PARENT},
                MIME_TYPES[parent_format],
                io.BytesIO(payload),
            )
        builder.sign(signer, mime, io.BytesIO(data), out)
    return out.getvalue()
