"""What made an image, carried inside the image file, and read back from any image.

Two forms travel together so that both Atelier and the common tools can read them:

- Atelier's own JSON (``ATELIER_FIELDS``): in a PNG ``iTXt`` chunk named ``atelier``; in JPEG
  and WebP, the ``atelier:metadata`` property of an XMP packet.
- The ``parameters`` text other image tools write and read (prompt, ``Negative prompt:`` line,
  then ``Steps: …, Sampler: …, CFG scale: …, Seed: …, Size: WxH, Model: …``): a PNG ``iTXt``
  chunk named ``parameters``; in JPEG and WebP the XMP ``dc:description`` and the EXIF
  ``ImageDescription`` and ``UserComment``, with ``Software`` naming Atelier.

The metadata is spliced into the encoded file, never re-encoded, so the pixels stay exactly
those the provider made. This module knows nothing of generations: the caller hands it a dict.
"""

import io
import json
import re
import struct
import warnings
import zlib
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from core.errors import ValidationFailed

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXIF_HEADER = b"Exif\x00\x00"
ATELIER_NS = "urn:atelier:provenance:1"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_DC = "http://purl.org/dc/elements/1.1/"
# What a JPEG marker segment may hold after its two length bytes.
_SEGMENT_MAX = 65533
_TEXT_KEYS = frozenset({b"parameters", b"atelier"})
# The formats whose files can carry the metadata; anything else is stored as it is.
EMBEDDABLE = frozenset({"png", "jpeg", "webp"})
READABLE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
# What Pillow raises on an EXIF block it cannot follow.
_DAMAGED = (SyntaxError, ValueError, OSError, struct.error, KeyError, TypeError, IndexError)

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
            return _png_embed(data, text=text, blob=blob)
        xmp = _xmp_packet(text=text, blob=blob, software=_software(metadata))
        exif = _exif_bytes(text=text, software=_software(metadata), base=_exif_in(data))
        if fmt == "jpeg":
            return _jpeg_embed(data, exif=exif, xmp=xmp)
        return _webp_embed(data, exif=exif[len(EXIF_HEADER) :], xmp=xmp)
    except (struct.error, IndexError) as exc:
        raise ValueError(f"a damaged {fmt} file") from exc


def metadata_read(file) -> dict:
    """What an image file says made it: ``{"format", "found", "atelier", "parameters", "fields",
    "software"}``. ``file`` is bytes, a file object or an open Pillow image; a file that is not an
    image is a 400 naming ``file``."""
    if isinstance(file, Image.Image):
        return metadata_from_image(file)
    limit = settings.ATELIER_UPLOAD_MAX_IMAGE_BYTES
    too_large = ValidationFailed(
        "Invalid image", details={"file": [f"The file is larger than {limit // (1024 * 1024)} MB."]}
    )
    if (getattr(file, "size", None) or 0) > limit:
        # An upload says its size: one too large is refused unread.
        raise too_large
    data = file if isinstance(file, bytes | bytearray) else file.read(limit + 1)
    if not data:
        raise ValidationFailed("Invalid image", details={"file": ["The file is empty."]})
    if len(data) > limit:
        raise too_large
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=READABLE_FORMATS) as image:
                return metadata_from_image(image)
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValidationFailed("Invalid image", details={"file": ["The file is not an image."]}) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ValidationFailed("Invalid image", details={"file": [f"The image could not be read: {exc}"]}) from None


def metadata_of_file(*, file, format: str, is_image: bool = True) -> dict:
    """The metadata inside a stored file (an asset's). Our own files are read whatever their
    size; a video carries none of ours."""
    if not is_image:
        return {"format": format, "found": False, "atelier": None, "parameters": "", "fields": None, "software": ""}
    with file.open("rb") as handle, Image.open(handle) as image:
        return metadata_from_image(image)


def metadata_from_image(image: Image.Image) -> dict:
    """The metadata of an opened image (see ``metadata_read``); its pixels are never decoded."""
    fmt = (image.format or "").lower()
    blob, text, software = "", "", ""
    info = image.info
    if fmt == "png":
        # Chunks after the pixel data are only read with them; ours come before.
        blob = _as_text(info.get("atelier"))
        text = _as_text(info.get("parameters"))
    xmp = info.get("xmp")
    if xmp:
        found = _xmp_fields(xmp)
        blob = blob or found.get("blob", "")
        text = text or found.get("description", "")
        software = found.get("tool", "")
    exif = _exif_of(image)
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
        software = _software(atelier)
    return {
        "format": fmt,
        "found": bool(atelier or text),
        "atelier": atelier,
        "parameters": text,
        "fields": parameters_parse(text) if text else None,
        "software": software,
    }


def parameters_text(metadata: dict) -> str:
    """The common ``parameters`` text: prompt lines, a ``Negative prompt:`` line, then settings.

    Without a prompt (the owner keeps prompts out of their files) only the settings line is left.
    """
    lines = []
    prompt = metadata.get("final_prompt") or metadata.get("prompt") or ""
    if prompt:
        lines.append(prompt)
    if metadata.get("negative_prompt"):
        lines.append(f"Negative prompt: {metadata['negative_prompt']}")
    pairs = [
        ("Steps", metadata.get("steps")),
        ("Sampler", metadata.get("sampler")),
        ("CFG scale", metadata.get("guidance")),
        ("Seed", metadata.get("seed")),
        (
            "Size",
            f"{metadata['width']}x{metadata['height']}" if metadata.get("width") and metadata.get("height") else None,
        ),
        ("Model", metadata.get("model")),
        ("Provider", metadata.get("provider")),
        ("Style", metadata.get("style")),
    ]
    for lora in metadata.get("loras") or []:
        pairs.append((f"Lora {lora.get('path', '')}", lora.get("scale")))
    pairs.append(("Version", _software(metadata)))
    lines.append(", ".join(f"{key}: {_quoted(value)}" for key, value in pairs if value not in (None, "")))
    return "\n".join(lines)


_PAIR = re.compile(r'\s*(\w[\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def parameters_parse(text: str) -> dict:
    """The ``parameters`` text as fields: prompt, negative prompt, the known settings typed, and
    every other ``key: value`` pair as text in ``extra``."""
    lines = text.strip().splitlines()
    settings_line = ""
    if lines and len(_PAIR.findall(lines[-1])) >= 2 and re.match(r"\s*\w[\w \-/]*:", lines[-1]):
        settings_line = lines.pop()
    prompt, negative, in_negative = [], [], False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:") :].strip()
        (negative if in_negative else prompt).append(line)
    pairs = {}
    for key, value in _PAIR.findall(settings_line):
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1]
        pairs[key.strip()] = value
    size = re.fullmatch(r"(\d+)x(\d+)", pairs.pop("Size", "") or "")
    return {
        "prompt": "\n".join(prompt).strip(),
        "negative_prompt": "\n".join(negative).strip(),
        "steps": _number(pairs.pop("Steps", None), int),
        "sampler": pairs.pop("Sampler", ""),
        "cfg_scale": _number(pairs.pop("CFG scale", None), float),
        "seed": _number(pairs.pop("Seed", None), int),
        "width": int(size.group(1)) if size else None,
        "height": int(size.group(2)) if size else None,
        "model": pairs.pop("Model", ""),
        "extra": pairs,
    }


def _number(value, kind):
    try:
        return kind(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _quoted(value) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if any(char in text for char in ',:"\n') else text


def _software(metadata: dict) -> str:
    version = metadata.get("version") or settings.ATELIER_VERSION
    return f"{metadata.get('generator') or 'Atelier'} {version}"


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
            value = _number(value, kind)
        if value is not None:
            clean[name] = value
    return clean


def _lora(item: dict) -> dict:
    return {"path": str(item.get("path") or "")[:2000], "scale": _number(item.get("scale"), float)}


def _as_text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value) if value else ""


def _xml_text(text: str) -> str:
    # XML 1.0 has no place for most control characters.
    return escape(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text))


def _xmp_packet(*, text: str, blob: str, software: str) -> bytes:
    properties = [f"<xmp:CreatorTool>{_xml_text(software)}</xmp:CreatorTool>"]
    if text:
        alternative = f'<rdf:Alt><rdf:li xml:lang="x-default">{_xml_text(text)}</rdf:li></rdf:Alt>'
        properties.append(f"<dc:description>{alternative}</dc:description>")
    if blob:
        properties.append(f"<atelier:metadata>{_xml_text(blob)}</atelier:metadata>")
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{_RDF}">'
        f'<rdf:Description rdf:about="" xmlns:dc="{_DC}" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        f' xmlns:atelier="{ATELIER_NS}">'
        f"{''.join(properties)}"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def _xmp_fields(xmp) -> dict:
    data = xmp if isinstance(xmp, bytes) else str(xmp).encode("utf-8")
    # No document type, so no entities to expand: a packet that declares one is not read.
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        return {}
    try:
        # Without a DOCTYPE (refused above) no entity can be declared, so none can be expanded.
        root = ElementTree.fromstring(data.strip(b"\x00 \r\n"))  # noqa: S314
    except ElementTree.ParseError:
        return {}
    found = {}
    blob = root.find(f".//{{{ATELIER_NS}}}metadata")
    if blob is not None and blob.text:
        found["blob"] = blob.text
    description = root.find(f".//{{{_DC}}}description//{{{_RDF}}}li")
    if description is not None and description.text:
        found["description"] = description.text
    tool = root.find(".//{http://ns.adobe.com/xap/1.0/}CreatorTool")
    if tool is not None and tool.text:
        found["tool"] = tool.text
    return found


def _exif_in(data: bytes) -> Image.Exif:
    """The EXIF the file has (its orientation, camera, …), which ours joins rather than replaces."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.getexif()
    except (UnidentifiedImageError, *_DAMAGED):
        return Image.Exif()


def _exif_bytes(*, text: str, software: str, base: Image.Exif | None = None) -> bytes:
    exif = base if base is not None else Image.Exif()
    exif[0x0131] = software
    if text:
        # ImageDescription is ASCII by the standard; UserComment carries the text in full.
        exif[0x010E] = text.encode("ascii", "replace").decode("ascii")
        comment = b"UNICODE\x00" + text.encode("utf-16-be")
        if len(comment) < _SEGMENT_MAX // 2:
            exif.get_ifd(0x8769)[0x9286] = comment
    return exif.tobytes()


def _exif_of(image: Image.Image) -> dict:
    try:
        exif = image.getexif()
    except _DAMAGED:
        # A damaged EXIF block is no metadata, not a failure.
        return {}
    if not exif:
        return {}
    found = {
        "description": _as_text(exif.get(0x010E)).strip("\x00"),
        "software": _as_text(exif.get(0x0131)).strip("\x00"),
    }
    try:
        comment = exif.get_ifd(0x8769).get(0x9286)
    except _DAMAGED:
        comment = None
    if isinstance(comment, bytes) and len(comment) > 8:
        code, body = comment[:8], comment[8:]
        if code == b"UNICODE\x00":
            # Big-endian as written here; a byte-order mark or an ASCII-looking start says otherwise.
            little = body[:2] == b"\xff\xfe" or (len(body) > 1 and body[0] != 0 and body[1] == 0)
            found["comment"] = body.decode("utf-16-le" if little else "utf-16-be", "replace").lstrip("\ufeff")
        else:
            found["comment"] = body.decode("utf-8", "replace")
        found["comment"] = found["comment"].strip("\x00")
    elif isinstance(comment, str):
        found["comment"] = comment.strip("\x00")
    return found


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _itxt(keyword: str, text: str) -> bytes:
    return _png_chunk(b"iTXt", keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))


def _png_embed(data: bytes, *, text: str, blob: str) -> bytes:
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    chunks, position = [], len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        body = data[position + 8 : position + 8 + length]
        if not (kind in (b"tEXt", b"zTXt", b"iTXt") and body.split(b"\x00", 1)[0] in _TEXT_KEYS):
            chunks.append(data[position:end])
        position = end
        if kind == b"IEND":
            break
    ours = []
    if text:
        ours.append(_itxt("parameters", text))
    if blob:
        ours.append(_itxt("atelier", blob))
    # Right after IHDR, before the pixels, so that a reader finds them without decoding.
    return PNG_SIGNATURE + chunks[0] + b"".join(ours) + b"".join(chunks[1:])


def _jpeg_embed(data: bytes, *, exif: bytes, xmp: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG file")
    leading, kept, position = [], [], 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xDA or not (0xC0 <= marker <= 0xFE) or 0xD0 <= marker <= 0xD7:
            break
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        segment = data[position : position + 2 + length]
        body = segment[4:]
        if marker == 0xE0 and not kept:
            # JFIF's APP0 stays first, as its standard wants.
            leading.append(segment)
        elif not (marker == 0xE1 and (body.startswith(EXIF_HEADER) or body.startswith(XMP_HEADER))):
            kept.append(segment)
        position += 2 + length
    ours = []
    for payload in (exif, XMP_HEADER + xmp):
        if len(payload) <= _SEGMENT_MAX:
            ours.append(b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload)
    return b"\xff\xd8" + b"".join(leading) + b"".join(ours) + b"".join(kept) + data[position:]


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def _webp_embed(data: bytes, *, exif: bytes, xmp: bytes) -> bytes:
    if not (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        raise ValueError("not a WebP file")
    chunks, position = [], 12
    while position + 8 <= len(data):
        kind = data[position : position + 4]
        (length,) = struct.unpack("<I", data[position + 4 : position + 8])
        chunks.append((kind, data[position + 8 : position + 8 + length]))
        position += 8 + length + (length % 2)
    if not chunks:
        raise ValueError("an empty WebP file")
    if chunks[0][0] == b"VP8X":
        header = bytearray(chunks[0][1])
        rest = [chunk for chunk in chunks[1:] if chunk[0] not in (b"EXIF", b"XMP ")]
    else:
        # A simple WebP becomes an extended one, which is the only kind with metadata.
        width, height, alpha = _webp_canvas(*chunks[0])
        header = bytearray(struct.pack("<I", 0x10 if alpha else 0) + _u24(width - 1) + _u24(height - 1))
        rest = chunks
    header[0] |= 0x08 | 0x04
    body = _riff_chunk(b"VP8X", bytes(header))
    body += b"".join(_riff_chunk(kind, payload) for kind, payload in rest)
    body += _riff_chunk(b"EXIF", exif) + _riff_chunk(b"XMP ", xmp)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def _u24(value: int) -> bytes:
    return struct.pack("<I", value)[:3]


def _webp_canvas(kind: bytes, payload: bytes) -> tuple[int, int, bool]:
    if kind == b"VP8L":
        (bits,) = struct.unpack("<I", payload[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    if kind == b"VP8 ":
        width, height = struct.unpack("<HH", payload[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    raise ValueError("an unknown WebP image chunk")
