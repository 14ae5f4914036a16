"""Turning bytes a user sent (an upload, or a fetched URL) into an image a provider can take.

The type is decided by decoding the content, never by the file name or the declared type. The
pixel count is checked from the header before anything is decoded, and Pillow's own
decompression-bomb guard is made an error. EXIF orientation is applied and every piece of
metadata (EXIF with GPS, ICC profiles, text chunks) is dropped by re-encoding the pixels alone
as PNG.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ValidationFailed

# Formats we decode; anything else is refused even if Pillow could read it.
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
ACCEPTED_CONTENT_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp"})
# What an image URL may answer with: an image type, or the untyped bytes object stores often
# serve. The content decides either way, as for an upload.
ACCEPTED_URL_CONTENT_TYPES = ACCEPTED_CONTENT_TYPES | {"application/octet-stream", "binary/octet-stream"}


@dataclass(frozen=True)
class NormalisedImage:
    """PNG bytes without metadata, and what the generation records about them."""

    data: bytes
    width: int
    height: int
    mode: str
    sha256: str
    source_url: str = ""
    content_type: str = "image/png"
    # The upright upload's size, and whether it was cropped to fill the size asked for: a mask
    # goes through the same geometry.
    source_size: tuple[int, int] = (0, 0)
    cropped: bool = False


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed("Invalid image", details={field: [message]})


def image_decode(data: bytes, *, field: str) -> Image.Image:
    """The first frame of an accepted image, fully decoded and upright, or a 400 naming ``field``."""
    limit = settings.ATELIER_UPLOAD_MAX_IMAGE_BYTES
    if len(data) > limit:
        raise invalid(field, f"The file is larger than {limit // (1024 * 1024)} MB.")
    if not data:
        raise invalid(field, "The file is empty.")
    max_pixels = settings.ATELIER_UPLOAD_MAX_PIXELS
    with warnings.catch_warnings():
        # Pillow warns between its limit and twice it, and raises beyond; both are refusals here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except UnidentifiedImageError:
            raise invalid(field, "The file is not a PNG, JPEG, WebP, GIF or BMP image.") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise invalid(field, f"The image has more than {max_pixels} pixels.") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise invalid(field, f"The image could not be read: {exc}") from None
        width, height = image.size
        if width < 1 or height < 1 or width * height > max_pixels:
            raise invalid(field, f"The image has more than {max_pixels} pixels ({width}×{height}).")
        try:
            image.seek(0)
            image.load()
            upright = ImageOps.exif_transpose(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise invalid(field, f"The image has more than {max_pixels} pixels.") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise invalid(field, f"The image is damaged or truncated: {exc}") from None
    return upright if upright is not None else image


def as_rgb_or_rgba(image: Image.Image) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        # Fully opaque images carry no alpha worth keeping; providers take RGB more widely.
        if rgba.getchannel("A").getextrema() == (255, 255):
            return rgba.convert("RGB")
        return rgba
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit and float greys: scale to 8 bits rather than clip.
        low, high = image.getextrema()
        scale = 255.0 / (high - low) if high > low else 1.0
        image = image.point(lambda value: (value - low) * scale).convert("L")
    return image.convert("RGB")


def fit_size(
    width: int, height: int, *, min_width: int, max_width: int, min_height: int, max_height: int, field: str
) -> tuple[int, int]:
    """The size closest to ``width``×``height`` with the same aspect ratio within the limits."""
    scale = 1.0
    if width > max_width or height > max_height:
        scale = min(max_width / width, max_height / height)
    elif width < min_width or height < min_height:
        scale = max(min_width / width, min_height / height)
    new_width, new_height = round(width * scale), round(height * scale)
    clamped = (min(max_width, max(min_width, new_width)), min(max_height, max(min_height, new_height)))
    # Rounding may overshoot a limit by a pixel; any more means the aspect ratio cannot fit.
    if abs(clamped[0] - new_width) > 1 or abs(clamped[1] - new_height) > 1:
        raise invalid(
            field,
            f"The image's aspect ratio ({width}×{height}) does not fit the model's limits "
            f"({min_width}–{max_width} × {min_height}–{max_height}).",
        )
    return clamped


def png_bytes(image: Image.Image) -> bytes:
    """PNG of the pixels alone: no EXIF, ICC profile, text chunks or timestamps."""
    clean = image.copy()
    clean.info = {}
    buffer = io.BytesIO()
    clean.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def normalised(
    image: Image.Image, *, source_url: str = "", source_size: tuple[int, int] = (0, 0), cropped: bool = False
) -> NormalisedImage:
    data = png_bytes(image)
    return NormalisedImage(
        data=data,
        width=image.width,
        height=image.height,
        mode=image.mode,
        sha256=hashlib.sha256(data).hexdigest(),
        source_url=source_url,
        source_size=source_size,
        cropped=cropped,
    )


def image_normalise(
    data: bytes,
    *,
    field: str,
    size: tuple[int, int] | None,
    limits: dict,
    even: bool = False,
    source_url: str = "",
) -> NormalisedImage:
    """The reference image as RGB/RGBA PNG: cropped to fill ``size`` when one is asked for,
    otherwise resized (keeping its aspect ratio) only as far as the model's limits need.

    ``even`` makes both sides even, as H.264 in 4:2:0 needs, trimming at most a pixel.
    """
    image = as_rgb_or_rgba(image_decode(data, field=field))
    source_size = image.size
    crop = size is not None
    target = size if crop else fit_size(*image.size, field=field, **limits)
    if even and (target[0] % 2 or target[1] % 2):
        target = (max(2, target[0] - target[0] % 2), max(2, target[1] - target[1] % 2))
        crop = True
    if image.size != target:
        if crop:
            image = ImageOps.fit(image, target, Image.Resampling.LANCZOS)
        else:
            image = image.resize(target, Image.Resampling.LANCZOS)
    return normalised(image, source_url=source_url, source_size=source_size, cropped=crop)


def files_as_digests(data) -> dict:
    """Request data with each uploaded file replaced by its SHA-256, for idempotency fingerprints:
    the same key with another file of the same name is another request."""
    if not hasattr(data, "getlist"):
        return data
    body = {}
    for key in data:
        values = []
        for value in data.getlist(key):
            if hasattr(value, "chunks"):
                digest = hashlib.sha256()
                for chunk in value.chunks():
                    digest.update(chunk)
                value.seek(0)
                values.append(f"sha256:{digest.hexdigest()}")
            else:
                values.append(value)
        body[key] = values[0] if len(values) == 1 else values
    return body
