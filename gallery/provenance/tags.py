"""XMP packets and EXIF tags: how JPEG and WebP files carry the metadata."""

import io
import re
import struct
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from PIL import Image, UnidentifiedImageError

ATELIER_NS = "urn:atelier:provenance:1"

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_DC = "http://purl.org/dc/elements/1.1/"

# What a JPEG marker segment may hold after its two length bytes.
SEGMENT_MAX = 65533

# What Pillow raises on an EXIF block it cannot follow.
DAMAGED = (SyntaxError, ValueError, OSError, struct.error, KeyError, TypeError, IndexError)


def as_text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value) if value else ""


def _xml_text(text: str) -> str:
    # XML 1.0 has no place for most control characters.
    return escape(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text))


def xmp_packet(*, text: str, blob: str, software: str) -> bytes:
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


def xmp_fields(xmp) -> dict:
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


def exif_in(data: bytes) -> Image.Exif:
    """The EXIF the file has (its orientation, camera, …), which ours joins rather than replaces."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.getexif()
    except (UnidentifiedImageError, *DAMAGED):
        return Image.Exif()


def exif_bytes(*, text: str, software: str, base: Image.Exif | None = None) -> bytes:
    exif = base if base is not None else Image.Exif()
    exif[0x0131] = software
    if text:
        # ImageDescription is ASCII by the standard; UserComment carries the text in full.
        exif[0x010E] = text.encode("ascii", "replace").decode("ascii")
        comment = b"UNICODE\x00" + text.encode("utf-16-be")
        if len(comment) < SEGMENT_MAX // 2:
            exif.get_ifd(0x8769)[0x9286] = comment
    return exif.tobytes()


def exif_of(image: Image.Image) -> dict:
    try:
        exif = image.getexif()
    except DAMAGED:
        # A damaged EXIF block is no metadata, not a failure.
        return {}
    if not exif:
        return {}
    found = {
        "description": as_text(exif.get(0x010E)).strip("\x00"),
        "software": as_text(exif.get(0x0131)).strip("\x00"),
    }
    try:
        comment = exif.get_ifd(0x8769).get(0x9286)
    except DAMAGED:
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
