"""A style adapter for the procedural renderer: what the ``local`` LoRA trainer fits.

It is not a diffusion LoRA. It is a small colour-and-texture transform applied to the
renderer's pixels: a 3×3 colour matrix with a bias, one monotone tone curve per channel and a
detail gain (how much fine texture is amplified or smoothed). The trainer fits these numbers
to a user's images so that the renderer's outputs take on their palette, tonality and grain.

``scale`` works as a LoRA's does: 0 leaves the image untouched, 1 applies the adapter as
trained, values in between interpolate every parameter from the identity.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

CURVE_KNOTS = 9
PARAM_NAMES = ("color_matrix", "color_bias", "tone_curve", "log_detail_gain")
FORMAT = "atelier-style-adapter/1"


def identity_params() -> dict[str, np.ndarray]:
    knots = np.linspace(0.0, 1.0, CURVE_KNOTS, dtype=np.float64)
    return {
        "color_matrix": np.eye(3),
        "color_bias": np.zeros(3),
        "tone_curve": np.tile(knots, (3, 1)),
        "log_detail_gain": np.zeros(1),
    }


def scaled(params: dict[str, np.ndarray], scale: float) -> dict[str, np.ndarray]:
    """Every parameter moved ``scale`` of the way from the identity."""
    base = identity_params()
    return {name: base[name] + scale * (np.asarray(params[name], dtype=np.float64) - base[name]) for name in base}


def curve_apply(values: np.ndarray, curve: np.ndarray) -> np.ndarray:
    """Per-channel piecewise-linear tone curves on [0, 1]; ``values`` is (..., 3)."""
    knots = np.linspace(0.0, 1.0, curve.shape[1])
    out = np.empty_like(values)
    for channel in range(3):
        out[..., channel] = np.interp(values[..., channel], knots, curve[channel])
    return out


def colour_apply(pixels: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """The colour part: matrix and bias, clipped, then the tone curves. Pixels in [0, 1]."""
    mixed = np.clip(pixels @ params["color_matrix"].T + params["color_bias"], 0.0, 1.0)
    return curve_apply(mixed, params["tone_curve"])


def detail_apply(image: np.ndarray, gain: float) -> np.ndarray:
    """Amplifies (gain > 1) or smooths (gain < 1) the detail above a small blur."""
    if abs(gain - 1.0) < 1e-6:
        return image
    as_image = Image.fromarray(np.uint8(np.clip(image, 0.0, 1.0) * 255.0 + 0.5))
    blur = np.asarray(as_image.filter(ImageFilter.GaussianBlur(radius=1.5)), dtype=np.float64) / 255.0
    return np.clip(blur + gain * (image - blur), 0.0, 1.0)


def apply(image: Image.Image, params: dict[str, np.ndarray], *, scale: float = 1.0) -> Image.Image:
    """The renderer's image with the adapter applied at ``scale``."""
    if scale == 0:
        return image
    p = scaled(params, scale)
    pixels = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    out = colour_apply(pixels, p)
    out = detail_apply(out, float(np.exp(p["log_detail_gain"][0])))
    return Image.fromarray(np.uint8(np.clip(out, 0.0, 1.0) * 255.0 + 0.5), "RGB")


def dumps(params: dict[str, np.ndarray], *, metadata: dict[str, str] | None = None) -> bytes:
    """The adapter as a ``.safetensors`` file (float32 tensors, our format name in its metadata)."""
    from safetensors.numpy import save

    tensors = {name: np.ascontiguousarray(params[name], dtype=np.float32) for name in PARAM_NAMES}
    return save(tensors, metadata={"format": FORMAT, **(metadata or {})})


def loads(data: bytes) -> dict[str, np.ndarray]:
    """Reads an adapter written by ``dumps``; ValueError when it is not one."""
    from safetensors.numpy import load

    try:
        tensors = load(data)
    except Exception as exc:  # noqa: BLE001 - the library raises several kinds for a bad file
        raise ValueError(f"Not a style adapter file: {exc}") from exc
    base = identity_params()
    for name in PARAM_NAMES:
        if name not in tensors or tensors[name].shape != base[name].shape:
            raise ValueError(f"Not a style adapter file: {name} is missing or misshapen")
    return {name: tensors[name].astype(np.float64) for name in PARAM_NAMES}


def colour_statistics(image: Image.Image | np.ndarray) -> np.ndarray:
    """Mean and standard deviation of each channel, in [0, 1]: what "closer in colour" measures."""
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    pixels = image.reshape(-1, 3)
    return np.concatenate([pixels.mean(axis=0), pixels.std(axis=0)])


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()
