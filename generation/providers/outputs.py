"""A hosted provider's output URL turned into a checked ProviderOutput stored in our format.

Images are decoded once (which proves they are images and bounds their size) and re-encoded
only when the provider's format is not the one asked for. Videos are opened with ffmpeg,
which proves they are videos and tells their frame size.
"""

import io
import tempfile

from core.errors import ProviderError
from generation.providers import local_renderer
from generation.providers.base import ProviderOutput
from generation.providers.downloads import IMAGE_TYPES, VIDEO_TYPES, download_output

MAX_PIXELS = 4096 * 4096


def image_output(url, *, provider: str, fmt: str, seed: int | None = None, nsfw: bool = False) -> ProviderOutput:
    downloaded = download_output(url, provider=provider, accept=IMAGE_TYPES)
    return checked_image(downloaded.data, provider=provider, fmt=fmt, seed=seed, nsfw=nsfw)


def checked_image(
    data: bytes,
    *,
    provider: str,
    fmt: str,
    seed: int | None = None,
    nsfw: bool = False,
    revised_prompt: str = "",
    quality: int | None = None,
) -> ProviderOutput:
    """A provider's image bytes as an output in ``fmt``, once proved to be an image of a bounded
    size. ``quality``: the JPEG/WebP quality (``output_compression``) when it is re-encoded here."""
    from PIL import Image, UnidentifiedImageError

    try:
        picture = Image.open(io.BytesIO(data))
        width, height = picture.size
        if width * height > MAX_PIXELS:
            raise ProviderError(f"{provider} returned an image of {width}x{height}, larger than allowed")
        picture.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ProviderError(f"{provider} returned something that is not an image") from exc
    if (picture.format or "").lower() != fmt:
        # Re-encoded in the requested format, without the upstream metadata.
        data = local_renderer.encode(picture, fmt=fmt, quality=quality)
    return ProviderOutput(
        data=data, format=fmt, width=width, height=height, seed=seed, nsfw=nsfw, revised_prompt=revised_prompt
    )


def video_output(url, *, provider: str, seed: int | None = None) -> ProviderOutput:
    downloaded = download_output(url, provider=provider, accept=VIDEO_TYPES)
    width, height = _video_size(downloaded.data, provider=provider)
    return ProviderOutput(data=downloaded.data, format="mp4", width=width, height=height, type="video", seed=seed)


def _video_size(data: bytes, *, provider: str) -> tuple[int, int]:
    import imageio_ffmpeg

    with tempfile.NamedTemporaryFile(suffix=".mp4") as handle:
        handle.write(data)
        handle.flush()
        try:
            reader = imageio_ffmpeg.read_frames(handle.name)
            meta = next(reader)
            reader.close()
        except (RuntimeError, OSError, StopIteration) as exc:
            raise ProviderError(f"{provider} returned something that is not a video") from exc
    width, height = meta.get("size") or (0, 0)
    if not width or not height:
        raise ProviderError(f"{provider} returned something that is not a video")
    return int(width), int(height)
