"""Pure image work: thumbnails, video first frames and format conversions (no database)."""

import io
import os
import tempfile
from contextlib import contextmanager

from PIL import Image

from gallery.provenance import metadata_embed, metadata_from_image

# Formats a download may be converted to, and Pillow's name for each.
CONVERTIBLE = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def thumbnail_from_image(source, *, size: int, quality: int) -> bytes:
    """A WebP whose long side is at most ``size``, made on Pillow's fast paths.

    ``draft`` lets the JPEG decoder scale by 1/2…1/8 while decoding, and ``thumbnail``'s
    ``reducing_gap`` shrinks by whole factors with ``reduce`` before the final resample, so a
    large image is never resampled at full size.
    """
    with Image.open(source) as image:
        image.draft("RGB", (size, size))
        image.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
        out = io.BytesIO()
        image.save(out, "WEBP", quality=quality, method=4)
    return out.getvalue()


@contextmanager
def local_path(file, suffix: str):
    """A path on disk for a stored file: its own on local storage, a temporary copy otherwise."""
    try:
        path = file.path
    except (AttributeError, NotImplementedError):
        path = None
    if path and os.path.exists(path):
        yield path
        return
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with file.open("rb") as source:
            for chunk in source.chunks():
                tmp.write(chunk)
        tmp.flush()
        yield tmp.name


def video_first_frame(path: str) -> tuple[Image.Image, float | None]:
    """The first frame of a video as an image, and the video's duration in seconds."""
    import imageio_ffmpeg

    frames = imageio_ffmpeg.read_frames(path)
    try:
        meta = next(frames)
        width, height = meta["size"]
        frame = next(frames)
    finally:
        frames.close()
    return Image.frombytes("RGB", (width, height), frame), meta.get("duration")


def convert(source, *, to: str) -> bytes:
    """Re-encodes an image; JPEG has no alpha, so transparency is flattened onto white.

    What made the image (gallery.provenance) goes into the new file in the new format's way.
    """
    with Image.open(source) as image:
        carried = metadata_from_image(image)
        image.load()
        if to == "jpeg":
            if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                image = flat
            elif image.mode != "RGB":
                image = image.convert("RGB")
        elif image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA")
        out = io.BytesIO()
        options = {"quality": 92} if to in ("jpeg", "webp") else {"optimize": False}
        image.save(out, CONVERTIBLE[to], **options)
    if not carried["found"]:
        return out.getvalue()
    # Atelier's JSON makes the text again; a file with only the text keeps that text.
    parameters = None if carried["atelier"] else carried["parameters"]
    return metadata_embed(out.getvalue(), to, carried["atelier"] or {}, parameters=parameters)
