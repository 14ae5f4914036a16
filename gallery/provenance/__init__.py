"""What made an image, carried inside the image file, and read back from any image.

Two forms travel together so that both Atelier and the common tools can read them:

- Atelier's own JSON (``ATELIER_FIELDS``): in a PNG ``iTXt`` chunk named ``atelier``; in JPEG
  and WebP, the ``atelier:metadata`` property of an XMP packet.
- The ``parameters`` text other image tools write and read (prompt, ``Negative prompt:`` line,
  then ``Steps: …, Sampler: …, CFG scale: …, Seed: …, Size: WxH, Model: …``): a PNG ``iTXt``
  chunk named ``parameters``; in JPEG and WebP the XMP ``dc:description`` and the EXIF
  ``ImageDescription`` and ``UserComment``, with ``Software`` naming Atelier.

The metadata is spliced into the encoded file, never re-encoded, so the pixels stay exactly
those the provider made (``containers``); ``tags`` writes and reads XMP and EXIF, ``parameters``
the text. This package knows nothing of generations: the caller hands it a dict.

Content credentials (C2PA) are signed over the file with its metadata (``signing``, with the
operator's certificate from ``credentials``) and read back with their validation (``reading``).
"""

import io
import json
import struct
import warnings

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from core.errors import ValidationFailed
from gallery.provenance.containers import jpeg_embed, png_embed, webp_embed
from gallery.provenance.credentials import c2pa_installed, signing_enabled
from gallery.provenance.parameters import number, parameters_parse, parameters_text, software_name
from gallery.provenance.reading import content_credentials_read
from gallery.provenance.signing import (
    content_credentials_derive,
    content_credentials_sign,
    content_credentials_transcode,
)
from gallery.provenance.tags import as_text, exif_bytes, exif_in, exif_of, xmp_fields, xmp_packet

__all__ = [
    "EMBEDDABLE",
    "content_credentials_derive",
    "content_credentials_read",
    "content_credentials_sign",
    "content_credentials_transcode",
    "metadata_embed",
    "metadata_from_image",
    "metadata_of_file",
    "metadata_read",
    "provenance_of_file",
    "provenance_read",
    "signing_enabled",
]

# The formats whose files can carry the metadata; anything else is stored as it is.
EMBEDDABLE = frozenset({"png", "jpeg", "webp"})

# What a file sent to be read may be.
READABLE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")

# Atelier's JSON, field by field: what a reader keeps from a file, each of the type named.
ATELIER_FIELDS = {
    "generator": str,
    "version": str,
    "generation_id": str,
    "prompt": str,
    "final_prompt": str,
    "negative_prompt": str,
    "model": str,
    "provider": str,
    "seed": int,
    "width": int,
    "height": int,
    "steps": int,
    "guidance": float,
    "sampler": str,
    "style": str,
    "loras": list,
    "source": dict,
}

SOURCE_FIELDS = ("asset_id", "generation_id", "url", "sha256")


def metadata_embed(data: bytes, fmt: str, metadata: dict, *, parameters: str | None = None) -> bytes:
    """``data`` (an encoded ``fmt`` image) with ``metadata`` inside; other formats unchanged.

    ``parameters`` replaces the text made from ``metadata`` (a conversion keeps the text the
    original carried). Metadata the file already had under the same names is replaced.
    """
    fmt = "jpeg" if fmt == "jpg" else fmt.lower()
    if fmt not in EMBEDDABLE or not (metadata or parameters):
        return data
    metadata = _clean(metadata) if metadata else {}
    text = parameters if parameters is not None else parameters_text(metadata)
    blob = json.dumps(metadata, ensure_ascii=False, separators=(",", ":")) if metadata else ""
    try:
        if fmt == "png":
            return png_embed(data, text=text, blob=blob)
        xmp = xmp_packet(text=text, blob=blob, software=software_name(metadata))
        exif = exif_bytes(text=text, software=software_name(metadata), base=exif_in(data))
        if fmt == "jpeg":
            return jpeg_embed(data, exif=exif, xmp=xmp)
        return webp_embed(data, exif=exif, xmp=xmp)
    except (struct.error, IndexError) as exc:
        raise ValueError(f"a damaged {fmt} file") from exc


def metadata_read(file) -> dict:
    """What an image file says made it: ``{"format", "found", "atelier", "parameters", "fields",
    "software"}``. ``file`` is bytes, a file object or an open Pillow image; a file that is not an
    image is a 400 naming ``file``."""
    if isinstance(file, Image.Image):
        return metadata_from_image(file)
    data = _upload_bytes(file)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=READABLE_FORMATS) as image:
                return metadata_from_image(image)
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValidationFailed("Invalid image", details={"file": ["The file is not an image."]}) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ValidationFailed("Invalid image", details={"file": [f"The image could not be read: {exc}"]}) from None


def provenance_read(file) -> dict:
    """``metadata_read``'s answer and the file's content credentials (``content_credentials``:
    see ``reading``), read only once the file is known to be an image within the limits."""
    data = _upload_bytes(file)
    found = metadata_read(data)
    found["content_credentials"] = content_credentials_read(data)
    return found


def _upload_bytes(file) -> bytes:
    """The bytes of a file sent to be read, within the upload limits (400 naming ``file``)."""
    limit = settings.ATELIER_UPLOAD_MAX_IMAGE_BYTES
    too_large = ValidationFailed(
        "Invalid image", details={"file": [f"The file is larger than {limit // (1024 * 1024)} MB."]}
    )
    if (getattr(file, "size", None) or 0) > limit:
        # An upload says its size: one too large is refused unread.
        raise too_large
    data = bytes(file) if isinstance(file, bytes | bytearray) else file.read(limit + 1)
    if not data:
        raise ValidationFailed("Invalid image", details={"file": ["The file is empty."]})
    if len(data) > limit:
        raise too_large
    return data


def metadata_of_file(*, file, format: str, is_image: bool = True) -> dict:
    """The metadata inside a stored file (an asset's). Our own files are read whatever their
    size; a video carries none of ours."""
    if not is_image:
        return {"format": format, "found": False, "atelier": None, "parameters": "", "fields": None, "software": ""}
    with file.open("rb") as handle, Image.open(handle) as image:
        return metadata_from_image(image)


def provenance_of_file(*, file, format: str, is_image: bool = True) -> dict:
    """``metadata_of_file`` and the stored file's content credentials (``content_credentials``)."""
    if not is_image:
        found = metadata_of_file(file=file, format=format, is_image=False)
        found["content_credentials"] = {"available": c2pa_installed(), "present": False}
        return found
    with file.open("rb") as handle:
        data = handle.read()
    with Image.open(io.BytesIO(data)) as image:
        found = metadata_from_image(image)
    found["content_credentials"] = content_credentials_read(data)
    return found


def metadata_from_image(image: Image.Image) -> dict:
    """The metadata of an opened image (see ``metadata_read``); its pixels are never decoded."""
    fmt = (image.format or "").lower()
    blob, text, software = "", "", ""
    info = image.info
    if fmt == "png":
        # Chunks after the pixel data are only read with them; ours come before.
        blob = as_text(info.get("atelier"))
        text = as_text(info.get("parameters"))
    xmp = info.get("xmp")
    if xmp:
        found = xmp_fields(xmp)
        blob = blob or found.get("blob", "")
        text = text or found.get("description", "")
        software = found.get("tool", "")
    # Pillow looks for a PNG's EXIF by decoding the whole image; ours is in the other chunks.
    exif = exif_of(image) if fmt != "png" or "exif" in info else {}
    if exif:
        text = text or exif.get("comment", "") or exif.get("description", "")
        software = exif.get("software", "") or software
    atelier = None
    if blob:
        try:
            raw = json.loads(blob)
        except ValueError:
            raw = None
        atelier = _clean(raw) if isinstance(raw, dict) else None
    if atelier and not software:
        software = software_name(atelier)
    return {
        "format": fmt,
        "found": bool(atelier or text),
        "atelier": atelier,
        "parameters": text,
        "fields": parameters_parse(text) if text else None,
        "software": software,
    }


def _clean(raw: dict) -> dict:
    """Only Atelier's fields, each of its type: a file from anywhere can say anything."""
    clean = {}
    for name, kind in ATELIER_FIELDS.items():
        value = raw.get(name)
        if value is None:
            continue
        if kind is list:
            value = [_lora(item) for item in value if isinstance(item, dict)] if isinstance(value, list) else None
        elif kind is dict:
            value = (
                {key: str(value[key]) for key in SOURCE_FIELDS if value.get(key) not in (None, "")}
                if isinstance(value, dict)
                else None
            )
        elif kind is str:
            value = str(value)[:10000] if isinstance(value, str | int | float) else None
        elif isinstance(value, bool):
            value = None
        else:
            value = number(value, kind)
        if value is not None:
            clean[name] = value
    return clean


def _lora(item: dict) -> dict:
    return {"path": str(item.get("path") or "")[:2000], "scale": number(item.get("scale"), float)}
