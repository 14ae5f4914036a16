"""Checks a training upload before anything is stored or charged, and normalises it into one zip.

Blocking (400, nothing kept): an image Pillow cannot decode or that claims more pixels than the
decompression-bomb guard allows, an image smaller than the minimum side, too few or too many
images, too many bytes for the plan, and in a zip any entry whose path leaves the archive
(zip-slip), an entry that expands too far (zip-bomb) or more entries than a dataset can hold.
Warnings (kept, reported): duplicate images (dropped), captions without an image (ignored),
files that are neither images nor captions (ignored), fewer images than recommended.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from PIL import Image

from core.errors import PayloadTooLarge, ValidationFailed

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp"})
IMAGE_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "BMP"})
CAPTION_EXTENSION = ".txt"
MAX_CAPTION_CHARS = 1000
# An entry that expands more than this many times over is treated as a zip bomb.
MAX_COMPRESSION_RATIO = 200
# The images_data_url /api/training/upload answers, also as a full URL of this server.
DATASET_URL = re.compile(r"/api/training/datasets/(?P<id>[0-9a-f-]{36})/?$")


@dataclass
class Entry:
    name: str
    data: bytes


@dataclass
class CheckedImage:
    name: str
    data: bytes
    width: int
    height: int
    sha256: str
    caption: str = ""


@dataclass
class Checked:
    images: list[CheckedImage] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total_size(self) -> int:
        return sum(len(image.data) for image in self.images)


@dataclass(frozen=True)
class Limits:
    max_images: int
    max_total_bytes: int
    min_images: int
    min_side: int
    max_image_bytes: int


def _safe_name(name: str) -> str | None:
    """The entry's path inside the archive, or None when it would leave it (zip-slip)."""
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        return None
    normal = posixpath.normpath(name)
    if normal.startswith("../") or normal == ".." or "/../" in f"/{normal}/":
        return None
    return normal


def zip_entries(data: bytes, *, limits: Limits) -> tuple[list[Entry], list[str]]:
    """The files of a zip, every entry checked before one byte of it is expanded."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ValidationFailed("The zip file cannot be read", details={"files": [f"Not a valid zip: {exc}"]}) from exc
    warnings: list[str] = []
    files = [info for info in infos if not info.is_dir()]
    if len(files) > 2 * limits.max_images + 20:
        raise ValidationFailed(
            "The zip has too many entries",
            details={"files": [f"{len(files)} entries; at most {limits.max_images} images."]},
        )
    expanded = 0
    for info in files:
        if _safe_name(info.filename) is None:
            raise ValidationFailed(
                "The zip is refused: an entry's path leaves the archive",
                details={"files": [f"{info.filename!r} points outside the archive."]},
            )
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > limits.max_image_bytes or ratio > MAX_COMPRESSION_RATIO:
            raise ValidationFailed(
                "The zip is refused: an entry expands too far",
                details={"files": [f"{info.filename!r} expands to {info.file_size} bytes ({ratio:.0f}× its size)."]},
            )
        expanded += info.file_size
    if expanded > limits.max_total_bytes:
        raise PayloadTooLarge(
            details=f"The zip expands to {expanded} bytes; your plan allows {limits.max_total_bytes}."
        )
    entries = []
    for info in files:
        name = _safe_name(info.filename)
        base = posixpath.basename(name)
        if name.startswith("__MACOSX/") or base.startswith("."):
            continue
        with archive.open(info) as handle:
            # The header's size is not trusted: read at most one byte more than it says.
            content = handle.read(info.file_size + 1)
        if len(content) > info.file_size:
            raise ValidationFailed("The zip is refused", details={"files": [f"{name!r} is larger than it declares."]})
        entries.append(Entry(name=name, data=content))
    return entries, warnings


def dataset_id_from_url(value: str) -> str | None:
    """The dataset a seed 004 ``images_data_url`` names, or None when it names none."""
    match = DATASET_URL.search(value)
    return match.group("id") if match else None


def data_url_bytes(value: str, *, limit: int) -> bytes:
    """The zip inside a ``data:application/zip;base64,…`` URL (seed 004's images_data_url)."""
    head, _, payload = value.partition(",")
    if not head.startswith("data:") or ";base64" not in head:
        raise ValidationFailed(details={"images_data_url": ["Must be a base64 data: URL or one of your datasets."]})
    if len(payload) * 3 // 4 > limit:
        raise PayloadTooLarge(details=f"The dataset is larger than your plan's {limit} bytes.")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed(details={"images_data_url": ["The base64 payload is malformed."]}) from exc


def _decode(entry: Entry, *, limits: Limits) -> tuple[int, int] | str:
    """The image's size, or why it is refused."""
    if len(entry.data) > limits.max_image_bytes:
        return f"larger than {limits.max_image_bytes} bytes"
    try:
        with Image.open(io.BytesIO(entry.data)) as image:
            if image.format not in IMAGE_FORMATS:
                return f"{image.format or 'unknown'} is not a training image format (PNG, JPEG, WebP, BMP)"
            size = image.size
            image.load()
    except Image.DecompressionBombError:
        return "too many pixels (decompression-bomb guard)"
    except Exception:  # noqa: BLE001 - Pillow raises many kinds of error for a broken file
        return "not a decodable image"
    if min(size) < limits.min_side:
        return f"{size[0]}×{size[1]} is smaller than the minimum side of {limits.min_side} px"
    return size


def dataset_check(entries: list[Entry], *, limits: Limits, warnings: list[str] | None = None) -> Checked:
    """Sorts entries into images and captions and checks them; ValidationFailed lists every refusal."""
    checked = Checked(warnings=list(warnings or []))
    errors: dict[str, list[str]] = {}
    captions: dict[str, str] = {}
    seen: dict[str, str] = {}
    for entry in entries:
        base = posixpath.basename(entry.name)
        stem, ext = posixpath.splitext(base)
        ext = ext.lower()
        if ext == CAPTION_EXTENSION:
            try:
                captions[stem] = entry.data.decode("utf-8").strip()[:MAX_CAPTION_CHARS]
            except UnicodeDecodeError:
                errors[entry.name] = ["Caption is not UTF-8 text."]
            continue
        if ext not in IMAGE_EXTENSIONS:
            checked.warnings.append(f"{entry.name}: ignored (neither an image nor a .txt caption).")
            continue
        result = _decode(entry, limits=limits)
        if isinstance(result, str):
            errors[entry.name] = [f"Refused: {result}."]
            continue
        digest = hashlib.sha256(entry.data).hexdigest()
        if digest in seen:
            checked.warnings.append(f"{entry.name}: duplicate of {seen[digest]}, dropped.")
            continue
        seen[digest] = entry.name
        checked.images.append(CheckedImage(entry.name, entry.data, result[0], result[1], digest))
    if errors:
        raise ValidationFailed("Some files cannot be used for training", details={"files": errors})
    stems = {posixpath.splitext(posixpath.basename(image.name))[0]: image for image in checked.images}
    for stem, caption in captions.items():
        if stem in stems:
            stems[stem].caption = caption
        else:
            checked.warnings.append(f"{stem}.txt: caption without an image, ignored.")
    count = len(checked.images)
    if count < limits.min_images:
        raise ValidationFailed(
            "Too few images", details={"files": [f"{count} usable image(s); at least {limits.min_images} are needed."]}
        )
    if count > limits.max_images:
        raise ValidationFailed(
            "Too many images", details={"files": [f"{count} images; your plan allows {limits.max_images}."]}
        )
    if checked.total_size > limits.max_total_bytes:
        raise PayloadTooLarge(
            details=f"The images total {checked.total_size} bytes; your plan allows {limits.max_total_bytes}."
        )
    if count < settings.ATELIER_TRAINING_RECOMMENDED_IMAGES:
        checked.warnings.append(
            f"{count} images: {settings.ATELIER_TRAINING_RECOMMENDED_IMAGES} or more usually train a steadier LoRA."
        )
    captioned = sum(1 for image in checked.images if image.caption)
    if 0 < captioned < count:
        checked.warnings.append(f"{count - captioned} image(s) have no caption; the trigger word stands in for one.")
    return checked


def archive_bytes(checked: Checked) -> bytes:
    """The dataset as a flat zip: numbered images and their same-name captions, nothing else."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for index, image in enumerate(checked.images, start=1):
            ext = posixpath.splitext(image.name)[1].lower()
            archive.writestr(f"image_{index:03d}{ext}", image.data)
            if image.caption:
                archive.writestr(f"image_{index:03d}.txt", image.caption)
    return buffer.getvalue()


def archive_images(data: bytes) -> list[Image.Image]:
    """The images of a stored dataset archive, decoded."""
    images = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if posixpath.splitext(info.filename)[1].lower() in IMAGE_EXTENSIONS:
                with Image.open(io.BytesIO(archive.read(info))) as image:
                    images.append(image.convert("RGB"))
    return images


def human_size(size: int) -> str:
    """Seed 004's ``total_size``: "15.2MB"."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1024
    return f"{size}B"


def dataset_public_path(dataset) -> str:
    """A link a provider can fetch the zip from without an account: signed, valid for a day."""
    from django.core.signing import TimestampSigner
    from django.urls import reverse

    token = TimestampSigner(salt="training-dataset").sign(str(dataset.pk)).rsplit(":", 2)
    path = reverse("training-dataset-public", kwargs={"pk": dataset.pk})
    return f"{path}?t={token[1]}&s={token[2]}"


def dataset_public_token_valid(*, dataset_id, timestamp: str, signature: str) -> bool:
    from django.core.signing import BadSignature, TimestampSigner

    try:
        TimestampSigner(salt="training-dataset").unsign(
            f"{dataset_id}:{timestamp}:{signature}", max_age=settings.ATELIER_TRAINING_DATASET_LINK_SECONDS
        )
    except BadSignature:
        return False
    return True
