"""The local provider's image edits: image-to-image, inpainting and upscaling.

Procedural, not AI: the prompt's pattern (the local renderer's picture of it) is blended into the
input by ``strength``, or painted only where the mask is white; upscaling is a Lanczos resize
with a light unsharp mask. Deterministic from the input, prompt and seed.
"""

from PIL import Image, ImageFilter

from generation.providers import local_renderer

DEFAULT_STRENGTH = 0.6


def _pattern(*, size: tuple[int, int], prompt: str, seed: int, negative_prompt: str) -> Image.Image:
    width, height = size
    return local_renderer.render(prompt=prompt, seed=seed, width=width, height=height, negative_prompt=negative_prompt)


def image_to_image(
    source: Image.Image, *, prompt: str, seed: int, strength: float, negative_prompt: str = ""
) -> Image.Image:
    """The input blended with the prompt's pattern: 0 keeps the input, 1 is the pattern alone."""
    pattern = _pattern(size=source.size, prompt=prompt, seed=seed, negative_prompt=negative_prompt)
    return Image.blend(source.convert("RGB"), pattern, max(0.0, min(1.0, strength)))


def inpaint(
    source: Image.Image, mask: Image.Image, *, prompt: str, seed: int, negative_prompt: str = ""
) -> Image.Image:
    """The prompt's pattern where the mask is white, the input untouched where it is black."""
    pattern = _pattern(size=source.size, prompt=prompt, seed=seed, negative_prompt=negative_prompt)
    if mask.size != source.size:
        mask = mask.resize(source.size, Image.Resampling.BILINEAR)
    return Image.composite(pattern, source.convert("RGB"), mask.convert("L"))


def upscale(source: Image.Image, *, factor: int) -> Image.Image:
    enlarged = source.convert("RGB").resize((source.width * factor, source.height * factor), Image.Resampling.LANCZOS)
    return enlarged.filter(ImageFilter.UnsharpMask(radius=2, percent=60, threshold=2))
