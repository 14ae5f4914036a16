"""Deterministic procedural image renderer behind the offline "local" provider.

This is not an AI model.  It paints an abstract "poster" of a prompt -- a gradient sky,
a sun or moon with a soft glow, translucent floating shapes, layered hills or waves and
sometimes stars -- so that development, demos and tests get plausible, varied images
without a GPU or network access.

Everything is deterministic: every random choice comes from a ``random.Random`` seeded
with a SHA-256 digest of the inputs (never ``hash()``, which is salted per process, and
never the global random state), drawing uses only Pillow primitives with fixed
parameters, and :func:`encode` writes no timestamps or metadata.  The same
``(prompt, seed, width, height, negative_prompt)`` therefore gives byte-identical pixels
in every process (for a given Pillow version).

The palette comes from the prompt (each word maps to a hue; words such as "sunset",
"ocean", "forest", "night", "red" or "blue" bias it), the seed varies the composition,
and a non-empty negative prompt slightly mutes the colours. The scene is painted layer by layer
(sky, sun, shapes, ground), and whoever asks is shown the canvas after each layer: the local
provider's in-progress pictures.  The scene is painted at a
reduced working scale and resized with a bicubic filter, which keeps a 1024x1024 render
well under a tenth of a second.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageEnhance

from generation.providers.local_renderer.palette import Palette, mute_amount, prompt_words, seeded_rng
from generation.providers.local_renderer.scene import STEPS, paint

__all__ = ["MAX_SIZE", "MIN_SIZE", "STEPS", "SUPPORTED_FORMATS", "encode", "render"]

MIN_SIZE = 64
MAX_SIZE = 2048
SUPPORTED_FORMATS = frozenset({"png", "jpeg", "webp"})

# Longest side of the canvas the scene is painted on before the final resize.
_WORK_MAX = 512


def render(
    *,
    prompt: str,
    seed: int,
    width: int,
    height: int,
    negative_prompt: str = "",
    frame: Callable[[Image.Image, int], None] | None = None,
) -> Image.Image:
    """Render a deterministic abstract RGB image of exactly ``width`` x ``height`` pixels.

    ``frame(image, step)``, when given, is shown the working canvas (at most 512 px) as the
    scene is painted layer by layer, steps 1 to ``STEPS - 1``; it must not change it. The
    result is the same with or without it."""
    if not isinstance(prompt, str):
        raise TypeError("prompt must be a str")
    if not isinstance(negative_prompt, str):
        raise TypeError("negative_prompt must be a str")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError("seed must be an int")
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int")
        if not MIN_SIZE <= value <= MAX_SIZE:
            raise ValueError(f"{name} must be between {MIN_SIZE} and {MAX_SIZE}, got {value}")

    words = prompt_words(prompt)
    palette = Palette(words, seeded_rng("palette", prompt))
    # The canvas size is deliberately not hashed: a thumbnail shows the same scene.
    rng = seeded_rng("composition", prompt, seed)

    scale = min(1.0, _WORK_MAX / max(width, height))
    work_w = max(8, round(width * scale))
    work_h = max(8, round(height * scale))

    image = paint(palette, rng, work_w, work_h, frame=frame)

    mute = mute_amount(negative_prompt)
    if mute > 0.0:
        image = ImageEnhance.Color(image).enhance(1.0 - mute)
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BICUBIC)
    return image


# JPEG and WebP quality when the request names none.
DEFAULT_QUALITY = 90


def encode(image: Image.Image, *, fmt: str, quality: int | None = None) -> bytes:
    """Encode ``image`` as png, jpeg or webp; identical images give identical bytes.

    ``quality`` (0-100, OpenAI's ``output_compression``: lower is smaller) sets JPEG and WebP
    quality; PNG is lossless and ignores it."""
    key = fmt.lower() if isinstance(fmt, str) else fmt
    if key not in SUPPORTED_FORMATS:
        raise ValueError(f"unsupported format {fmt!r}; expected one of {sorted(SUPPORTED_FORMATS)}")
    clean = image.convert("RGB") if image.mode != "RGB" else image.copy()
    clean.info = {}  # never carry ICC profiles, EXIF, text chunks or timestamps along
    buffer = io.BytesIO()
    if key == "png":
        clean.save(buffer, format="PNG", compress_level=3)
    elif key == "jpeg":
        clean.save(buffer, format="JPEG", quality=DEFAULT_QUALITY if quality is None else quality)
    else:
        clean.save(buffer, format="WEBP", quality=DEFAULT_QUALITY if quality is None else quality, method=4)
    return buffer.getvalue()
