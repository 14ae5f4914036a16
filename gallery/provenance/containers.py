"""Splicing the metadata into an encoded PNG, JPEG or WebP file, chunk by chunk: the pixels
are never decoded or re-encoded."""

import struct
import zlib

from gallery.provenance.tags import SEGMENT_MAX

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"


EXIF_HEADER = b"Exif\x00\x00"

_TEXT_KEYS = frozenset({b"parameters", b"atelier"})


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _itxt(keyword: str, text: str) -> bytes:
    return _png_chunk(b"iTXt", keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))


def png_embed(data: bytes, *, text: str, blob: str) -> bytes:
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


def jpeg_embed(data: bytes, *, exif: bytes, xmp: bytes) -> bytes:
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
        if len(payload) <= SEGMENT_MAX:
            ours.append(b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload)
    return b"\xff\xd8" + b"".join(leading) + b"".join(ours) + b"".join(kept) + data[position:]


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def webp_embed(data: bytes, *, exif: bytes, xmp: bytes) -> bytes:
    """``exif`` as a JPEG carries it; a WebP's EXIF chunk holds it without the APP1 header."""
    exif = exif.removeprefix(EXIF_HEADER)
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
