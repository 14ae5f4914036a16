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
and a non-empty negative prompt slightly mutes the colours.  The scene is painted at a
reduced working scale and resized with a bicubic filter, which keeps a 1024x1024 render
well under a tenth of a second.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import itertools
import json
import math
import random
import re

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

__all__ = ["MAX_SIZE", "MIN_SIZE", "SUPPORTED_FORMATS", "encode", "render"]

MIN_SIZE = 64
MAX_SIZE = 2048
SUPPORTED_FORMATS = frozenset({"png", "jpeg", "webp"})

# Longest side of the canvas the scene is painted on before the final resize.
_WORK_MAX = 512
# Bump when the drawing changes, so that old and new outputs never share a random stream.
_ALGORITHM_VERSION = "local-renderer-v1"

RGB = tuple[int, int, int]

# Word -> hue (0..1) biases; unknown words get a hue from their SHA-256 digest.
# fmt: off
_KEYWORD_HUES: dict[str, float] = {
    "red": 0.0, "crimson": 0.97, "scarlet": 0.99, "ruby": 0.97, "blood": 0.99, "rose": 0.95,
    "orange": 0.07, "amber": 0.09, "autumn": 0.07, "fall": 0.07, "fire": 0.04, "flame": 0.05,
    "lava": 0.03, "volcano": 0.03, "sunset": 0.05, "sunrise": 0.08, "dawn": 0.07, "dusk": 0.8,
    "gold": 0.12, "golden": 0.12, "yellow": 0.15, "sun": 0.11, "sunny": 0.12, "summer": 0.13,
    "desert": 0.09, "sand": 0.11, "beach": 0.12, "brown": 0.07, "wood": 0.08, "coffee": 0.07,
    "lime": 0.23, "spring": 0.27, "grass": 0.28, "meadow": 0.27, "leaf": 0.3, "nature": 0.3,
    "green": 0.33, "forest": 0.36, "jungle": 0.35, "tree": 0.33, "garden": 0.31, "emerald": 0.4,
    "mint": 0.43, "teal": 0.48, "turquoise": 0.49, "cyan": 0.5, "aqua": 0.5, "tropical": 0.47,
    "ice": 0.53, "frozen": 0.54, "snow": 0.58, "winter": 0.6, "cold": 0.57, "arctic": 0.55,
    "water": 0.55, "sea": 0.55, "ocean": 0.56, "lake": 0.54, "river": 0.54, "rain": 0.6,
    "sky": 0.58, "cloud": 0.59, "blue": 0.62, "sapphire": 0.63, "navy": 0.64, "mountain": 0.6,
    "moon": 0.63, "night": 0.66, "midnight": 0.67, "dark": 0.68, "storm": 0.64, "space": 0.7,
    "indigo": 0.7, "galaxy": 0.75, "cosmic": 0.76, "nebula": 0.8, "violet": 0.76,
    "purple": 0.78, "lavender": 0.75, "cyber": 0.8, "neon": 0.85, "magenta": 0.85,
    "fuchsia": 0.88, "pink": 0.92, "love": 0.96, "cherry": 0.95, "blossom": 0.93, "candy": 0.92,
}
# fmt: on
_NIGHT_WORDS = frozenset(
    {
        "night",
        "midnight",
        "space",
        "galaxy",
        "cosmic",
        "nebula",
        "star",
        "starry",
        "moon",
        "dark",
        "stars",
        "constellation",
        "universe",
        "astronaut",
        "planet",
    }
)
_SUNSET_WORDS = frozenset({"sunset", "sunrise", "dawn", "dusk", "evening", "twilight", "golden"})
_SOFT_WORDS = frozenset(
    {
        "snow",
        "winter",
        "fog",
        "foggy",
        "mist",
        "misty",
        "pastel",
        "soft",
        "cloud",
        "cloudy",
        "dream",
        "dreamy",
        "calm",
        "gentle",
        "white",
        "frozen",
        "ice",
        "minimal",
    }
)
_VIVID_WORDS = frozenset(
    {
        "neon",
        "cyber",
        "cyberpunk",
        "vivid",
        "vibrant",
        "bright",
        "electric",
        "psychedelic",
        "rainbow",
        "colorful",
        "colourful",
        "fire",
        "tropical",
        "candy",
    }
)
_WATER_WORDS = frozenset(
    {
        "ocean",
        "sea",
        "water",
        "lake",
        "river",
        "wave",
        "waves",
        "beach",
        "coast",
        "shore",
        "harbor",
        "harbour",
        "island",
        "sail",
        "boat",
        "ship",
        "surf",
        "bay",
        "pond",
        "reflection",
    }
)
_LAND_WORDS = frozenset(
    {
        "mountain",
        "mountains",
        "hill",
        "hills",
        "forest",
        "landscape",
        "valley",
        "desert",
        "field",
        "meadow",
        "countryside",
        "village",
        "castle",
        "jungle",
        "canyon",
        "dune",
        "dunes",
    }
)
_ABSTRACT_WORDS = frozenset(
    {
        "abstract",
        "pattern",
        "geometric",
        "bokeh",
        "bubble",
        "bubbles",
        "circle",
        "circles",
        "orb",
        "orbs",
        "minimal",
        "shapes",
        "dream",
        "dreamy",
        "wallpaper",
        "texture",
    }
)


def render(
    *,
    prompt: str,
    seed: int,
    width: int,
    height: int,
    negative_prompt: str = "",
) -> Image.Image:
    """Render a deterministic abstract RGB image of exactly ``width`` x ``height`` pixels."""
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

    words = _words(prompt)
    palette = _Palette(words, _rng("palette", prompt))
    # The canvas size is deliberately not hashed: a thumbnail shows the same scene.
    rng = _rng("composition", prompt, seed)

    scale = min(1.0, _WORK_MAX / max(width, height))
    work_w = max(8, round(width * scale))
    work_h = max(8, round(height * scale))

    image = _paint(palette, rng, work_w, work_h)

    mute = _mute_amount(negative_prompt)
    if mute > 0.0:
        image = ImageEnhance.Color(image).enhance(1.0 - mute)
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BICUBIC)
    return image


def encode(image: Image.Image, *, fmt: str) -> bytes:
    """Encode ``image`` as png, jpeg or webp; identical images give identical bytes."""
    key = fmt.lower() if isinstance(fmt, str) else fmt
    if key not in SUPPORTED_FORMATS:
        raise ValueError(f"unsupported format {fmt!r}; expected one of {sorted(SUPPORTED_FORMATS)}")
    clean = image.convert("RGB") if image.mode != "RGB" else image.copy()
    clean.info = {}  # never carry ICC profiles, EXIF, text chunks or timestamps along
    buffer = io.BytesIO()
    if key == "png":
        clean.save(buffer, format="PNG", compress_level=3)
    elif key == "jpeg":
        clean.save(buffer, format="JPEG", quality=90)
    else:
        clean.save(buffer, format="WEBP", quality=90, method=4)
    return buffer.getvalue()


# Helpers


def _rng(purpose: str, *parts: object) -> random.Random:
    payload = json.dumps([_ALGORITHM_VERSION, purpose, *parts], ensure_ascii=True)
    digest = hashlib.sha256(payload.encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _keyword(word: str) -> str:
    """Map simple plurals ("oceans", "forests") onto known keywords."""
    if word in _KEYWORD_HUES or len(word) < 4 or not word.endswith("s"):
        return word
    return word[:-1] if word[:-1] in _KEYWORD_HUES else word


def _mute_amount(negative_prompt: str) -> float:
    count = len(_words(negative_prompt))
    return 0.0 if count == 0 else min(0.4, 0.15 + 0.03 * count)


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(1.0, max(0.0, s)), min(1.0, max(0.0, v)))
    return round(r * 255), round(g * 255), round(b * 255)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _smoothstep(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return t * t * (3.0 - 2.0 * t)


class _Palette:
    """Colours of one prompt: sky gradient stops, sun, shape and terrain colours."""

    def __init__(self, words: list[str], rng: random.Random) -> None:
        word_set = {_keyword(w) for w in words} | set(words)
        self.night = bool(word_set & _NIGHT_WORDS)
        self.sunset = bool(word_set & _SUNSET_WORDS) and not self.night
        self.soft = bool(word_set & _SOFT_WORDS)
        self.vivid = bool(word_set & _VIVID_WORDS)
        self.water = bool(word_set & _WATER_WORDS)
        self.land = bool(word_set & _LAND_WORDS)
        self.abstract = bool(word_set & _ABSTRACT_WORDS)

        # Circular mean of the word hues; known keywords weigh more than other words.
        sx = sy = 0.0
        keyword_hues: list[float] = []
        for word in words:
            key = _keyword(word)
            if key in _KEYWORD_HUES:
                hue, weight = _KEYWORD_HUES[key], 3.0
                keyword_hues.append(hue)
            else:
                digest = hashlib.sha256(word.encode("utf-8")).digest()
                hue, weight = int.from_bytes(digest[:4], "big") / 2**32, 1.0
            sx += weight * math.cos(2 * math.pi * hue)
            sy += weight * math.sin(2 * math.pi * hue)
        if sx == 0.0 and sy == 0.0:
            base = rng.random()
        else:
            base = (math.atan2(sy, sx) / (2 * math.pi)) % 1.0
        base = (base + rng.uniform(-0.03, 0.03)) % 1.0
        if len(keyword_hues) >= 2:
            accent = keyword_hues[1] if abs(keyword_hues[1] - base) > 0.04 else keyword_hues[0]
        else:
            accent = base + rng.choice((0.08, -0.08, 0.5, 0.33, -0.33, 0.15))
        self.base = base
        self.accent = accent % 1.0

        sat = 0.62
        if self.vivid:
            sat = 0.9
        if self.soft:
            sat = 0.32
        sat *= rng.uniform(0.9, 1.1)
        self.sat = sat

        h1, h2 = self.base, self.accent
        if self.night:
            top = _hsv(h1 + 0.02, min(1.0, sat + 0.15), 0.10)
            mid = _hsv(h1, sat + 0.05, 0.24)
            low = _hsv(h2, sat * 0.8, 0.42)
        elif self.sunset:
            top = _hsv(_toward(h1, 0.7, 0.5), sat * 0.85, 0.42)
            mid = _hsv(_toward(h1, 0.93, 0.6), sat, 0.82)
            low = _hsv(_toward(h1, 0.09, 0.75), min(1.0, sat + 0.15), 1.0)
        elif self.soft:
            top = _hsv(h1, sat * 0.9, 0.78)
            mid = _hsv(h1 + 0.03, sat * 0.6, 0.9)
            low = _hsv(h2, sat * 0.35, 0.98)
        else:
            top = _hsv(h1, sat, 0.62)
            mid = _hsv(h1 + 0.04, sat * 0.75, 0.86)
            low = _hsv(h2, sat * 0.45, 0.97)
        self.sky_top, self.sky_mid, self.sky_low = top, mid, low

        if self.night:
            self.sun = _hsv(h2 + 0.05, 0.12, 0.98)  # a pale moon
            self.glow = _hsv(h2, 0.35, 0.75)
        elif self.sunset:
            self.sun = _hsv(0.1, 0.45, 1.0)
            self.glow = _hsv(0.07, 0.7, 1.0)
        else:
            self.sun = _hsv(h2 + 0.03, 0.22, 1.0)
            self.glow = _hsv(h2, 0.4, 1.0)

        self.shapes = [
            _hsv(h1 + rng.uniform(-0.05, 0.05), sat * rng.uniform(0.6, 1.1), rng.uniform(0.75, 1.0)),
            _hsv(h2 + rng.uniform(-0.05, 0.05), sat * rng.uniform(0.6, 1.1), rng.uniform(0.75, 1.0)),
            _hsv((h1 + h2) / 2 + rng.choice((0.0, 0.5)), sat * 0.7, 0.95),
            _hsv(h2 + 0.5, sat * 0.5, 1.0),
        ]
        # Terrain: far layers fade into the horizon colour, near layers are deep and dark.
        terrain_hue = h2 if rng.random() < 0.5 else h1 + 0.5 * rng.choice((0.0, 0.2, -0.2))
        far_v, near_v = (0.3, 0.05) if self.night else (0.55, 0.12) if self.sunset else (0.7, 0.22)
        self.terrain_far = _mix(_hsv(terrain_hue, sat * 0.8, far_v), self.sky_low, 0.45)
        self.terrain_near = _hsv(terrain_hue + 0.04, min(1.0, sat * 1.1 + 0.1), near_v)


def _toward(hue: float, target: float, amount: float) -> float:
    """Move ``hue`` towards ``target`` along the shorter way round the colour wheel."""
    delta = ((target - hue + 0.5) % 1.0) - 0.5
    return (hue + delta * amount) % 1.0


# Painting


def _paint(pal: _Palette, rng: random.Random, w: int, h: int) -> Image.Image:
    if pal.water and not pal.land:
        mode = "sea"
    elif pal.land and not pal.water:
        mode = "land"
    elif pal.abstract:
        mode = "orbs"
    else:
        mode = rng.choices(("land", "sea", "orbs"), weights=(4, 3, 3))[0]
    if mode == "orbs":
        horizon = rng.uniform(0.68, 0.85)
    elif mode == "sea":
        horizon = rng.uniform(0.45, 0.62)
    else:
        horizon = rng.uniform(0.5, 0.68)
    hy = horizon * h
    unit = math.sqrt(w * h)

    image = _sky(pal, rng, w, h, horizon)

    starry = pal.night or (not pal.sunset and rng.random() < 0.12 and pal.sat > 0.5)
    if starry:
        _stars(image, rng, w, hy, unit)

    # Sun or moon, with a wide glow.
    sun_r = min(unit * rng.uniform(0.05, 0.11), 0.45 * min(w, h) + 2)
    sun_x = w * rng.uniform(0.18, 0.82)
    if pal.sunset or mode == "sea":
        sun_y = hy - sun_r * rng.uniform(-0.2, 1.8)
    else:
        sun_y = hy * rng.uniform(0.18, 0.6)
    _glow(image, sun_x, sun_y, sun_r * rng.uniform(4.0, 6.5), pal.glow, 0.55 if pal.night else 0.7)
    _disc(image, sun_x, sun_y, sun_r, pal.sun, 235, blur=max(0.6, sun_r * 0.06))

    _floating_shapes(image, pal, rng, w, h, hy, unit, many=mode == "orbs")

    if mode == "sea":
        _sea(image, pal, rng, w, h, hy, sun_x, sun_r)
    elif mode == "land":
        _hills(image, pal, rng, w, h, hy, layers=rng.randint(3, 5))
    else:
        _ribbons(image, pal, rng, w, h, hy)

    _vignette(image, 0.35 if pal.night else 0.22)
    return image


def _sky(pal: _Palette, rng: random.Random, w: int, h: int, horizon: float) -> Image.Image:
    ramp = Image.linear_gradient("L")
    vertical = ramp.resize((w, h), Image.Resampling.BILINEAR)
    tilt = rng.uniform(0.0, 0.3)
    if tilt > 0.04:
        across = ramp.transpose(Image.Transpose.ROTATE_90)
        if rng.random() < 0.5:
            across = across.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        vertical = Image.blend(vertical, across.resize((w, h), Image.Resampling.BILINEAR), tilt)
    mid_pos = horizon * rng.uniform(0.45, 0.7)
    stops = [(0.0, pal.sky_top), (mid_pos, pal.sky_mid), (horizon, pal.sky_low), (1.0, pal.sky_low)]
    lut: list[int] = []
    for channel in range(3):
        for v in range(256):
            t = v / 255.0
            for (p0, c0), (p1, c1) in itertools.pairwise(stops):
                if t <= p1 or p1 >= 1.0:
                    k = _smoothstep((t - p0) / (p1 - p0)) if p1 > p0 else 1.0
                    lut.append(round(c0[channel] + (c1[channel] - c0[channel]) * k))
                    break
    return vertical.convert("RGB").point(lut)


def _stars(image: Image.Image, rng: random.Random, w: int, hy: float, unit: float) -> None:
    draw = ImageDraw.Draw(image)
    top = max(1, int(hy * 0.95))
    count = int(w * top / 260) + 6
    for _ in range(count):
        x = rng.random() * w
        y = (rng.random() ** 1.4) * top
        b = rng.randint(150, 255)
        colour = (b, b, min(255, b + rng.randint(0, 25)))
        if rng.random() < 0.08:
            r = max(0.8, unit * 0.0025)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.point((x, y), fill=colour)


def _glow(image: Image.Image, cx: float, cy: float, radius: float, colour: RGB, peak: float) -> None:
    size = max(4, int(radius * 2))
    lut = [round(255 * peak * (max(0.0, 1.0 - v / 128.0) ** 2.2)) for v in range(256)]
    mask = Image.radial_gradient("L").point(lut).resize((size, size), Image.Resampling.BILINEAR)
    image.paste(colour, (round(cx - size / 2), round(cy - size / 2)), mask)


def _disc(image: Image.Image, cx: float, cy: float, r: float, colour: RGB, alpha: int, blur: float) -> None:
    pad = int(r + blur * 3 + 2)
    x0, y0 = int(cx) - pad, int(cy) - pad
    mask = Image.new("L", (2 * pad, 2 * pad), 0)
    ImageDraw.Draw(mask).ellipse((cx - x0 - r, cy - y0 - r, cx - x0 + r, cy - y0 + r), fill=alpha)
    if blur > 0:
        mask = mask.filter(ImageFilter.GaussianBlur(blur))
    image.paste(colour, (x0, y0), mask)


def _floating_shapes(
    image: Image.Image,
    pal: _Palette,
    rng: random.Random,
    w: int,
    h: int,
    hy: float,
    unit: float,
    *,
    many: bool,
) -> None:
    """Translucent soft circles and rings (bokeh), painted on one layer and blurred once."""
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    count = rng.randint(9, 15) if many else rng.randint(3, 6)
    for _ in range(count):
        r = unit * (0.025 + (0.2 if many else 0.1) * rng.random() ** 1.6)
        x = rng.uniform(-0.05, 1.05) * w
        y = rng.uniform(0.0, 0.95) * (h * 0.9 if many else hy)
        colour = rng.choice(pal.shapes)
        alpha = rng.randint(35, 85) if many else rng.randint(22, 50)
        if rng.random() < 0.2:
            width = max(1, round(unit * 0.004))
            draw.ellipse((x - r, y - r, x + r, y + r), outline=(*colour, min(255, alpha + 50)), width=width)
        else:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(*colour, alpha))
    layer = layer.filter(ImageFilter.GaussianBlur(max(0.6, unit * 0.006)))
    base = image.convert("RGBA")
    base.alpha_composite(layer)
    image.paste(base.convert("RGB"))


def _wave_points(
    rng: random.Random, w: int, h: int, base_y: float, amplitude: float, cycles: float, steps: int
) -> list[tuple[float, float]]:
    limit = steps / 6.0  # keep every harmonic well below the sampling rate (no jagged teeth)
    terms = [
        (amplitude * rng.uniform(0.5, 1.0), cycles * rng.uniform(0.6, 1.2), rng.uniform(0, 2 * math.pi)),
        (amplitude * rng.uniform(0.2, 0.5), cycles * rng.uniform(1.8, 3.2), rng.uniform(0, 2 * math.pi)),
        (amplitude * rng.uniform(0.05, 0.2), cycles * rng.uniform(4.0, 7.0), rng.uniform(0, 2 * math.pi)),
    ]
    terms = [(a, min(f, limit), p) for a, f, p in terms]
    points = []
    for i in range(steps + 1):
        x = w * i / steps
        u = i / steps
        y = base_y - sum(a * math.sin(2 * math.pi * f * u + p) for a, f, p in terms)
        points.append((x, y))
    return [(-2.0, float(h + 2)), *points, (w + 2.0, float(h + 2))]


def _fill_polygon(image: Image.Image, points: list[tuple[float, float]], colour: RGB, soft: float) -> None:
    w, h = image.size
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).polygon(points, fill=255)
    if soft > 0:
        mask = mask.filter(ImageFilter.GaussianBlur(soft))
    image.paste(colour, (0, 0), mask)


def _hills(image: Image.Image, pal: _Palette, rng: random.Random, w: int, h: int, hy: float, *, layers: int) -> None:
    aspect = max(1.0, w / h)
    steps = max(16, min(160, w // 3))
    band = h - hy
    for i in range(layers):
        t = i / max(1, layers - 1)
        colour = _mix(pal.terrain_far, pal.terrain_near, t**0.9)
        base_y = hy + band * (0.02 + 0.62 * t) + band * rng.uniform(-0.04, 0.04)
        amplitude = min(h * 0.16, band * 0.55, w * 0.3 + h * 0.02) * (1.0 - 0.45 * t) * rng.uniform(0.6, 1.1)
        cycles = aspect * rng.uniform(0.6, 1.6) * (1.0 + 0.4 * (layers - i) / layers)
        points = _wave_points(rng, w, h, base_y, amplitude, cycles, steps)
        _fill_polygon(image, points, colour, soft=0.6)


def _sea(
    image: Image.Image,
    pal: _Palette,
    rng: random.Random,
    w: int,
    h: int,
    hy: float,
    sun_x: float,
    sun_r: float,
) -> None:
    aspect = max(1.0, w / h)
    steps = max(16, min(160, w // 3))
    band = h - hy
    # Distant headland on one side, then the water surface.
    if rng.random() < 0.65:
        side = rng.random() < 0.5
        x0, x1 = (0.0, w * rng.uniform(0.3, 0.55)) if side else (w * rng.uniform(0.45, 0.7), float(w))
        top = hy - min(h * 0.08, band * 0.4) * rng.uniform(0.5, 1.0)
        mid = (x0 + x1) / 2
        headland = [
            (x0 - 2, hy + 1),
            (x0, top if side else hy),
            (mid, top),
            (x1, hy if side else top),
            (x1 + 2, hy + 1),
        ]
        _fill_polygon(image, headland, _mix(pal.terrain_far, pal.sky_low, 0.25), soft=0.6)
    water_top = _mix(pal.sky_low, pal.terrain_near, 0.3)
    water_bottom = _mix(pal.sky_low, pal.terrain_near, 0.8)
    top_y = round(hy)
    if top_y < h:
        ramp = Image.linear_gradient("L").resize((w, h - top_y), Image.Resampling.BILINEAR)
        lut = [
            c
            for ch in range(3)
            for c in (round(water_top[ch] + (water_bottom[ch] - water_top[ch]) * (v / 255) ** 0.8) for v in range(256))
        ]
        image.paste(ramp.convert("RGB").point(lut), (0, top_y))
    # Reflection of the sun: soft horizontal strokes, wider and fainter towards the viewer.
    glints = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(glints)
    strokes = max(6, int(band / 4))
    for i in range(strokes):
        t = i / strokes
        y = hy + 2 + t * band * 0.9
        half = sun_r * (0.5 + 1.6 * t) * rng.uniform(0.3, 1.1)
        x = sun_x + rng.uniform(-0.3, 0.3) * sun_r
        draw.line((x - half, y, x + half, y), fill=round(200 * (1.0 - 0.8 * t)), width=max(1, round(band * 0.01)))
    image.paste(pal.sun, (0, 0), glints.filter(ImageFilter.GaussianBlur(max(0.7, band * 0.006))))
    # Waves: bands of deeper water rolling towards the bottom.
    layers = rng.randint(3, 5)
    for i in range(layers):
        t = (i + 1) / layers
        colour = _mix(water_top, pal.terrain_near, 0.25 + 0.6 * t)
        base_y = hy + band * (0.18 + 0.6 * t**1.3)
        amplitude = band * 0.03 * (0.5 + t) * rng.uniform(0.7, 1.2)
        cycles = aspect * rng.uniform(1.0, 2.2) * (2.0 - t)
        points = _wave_points(rng, w, h, base_y, amplitude, cycles, steps)
        _fill_polygon(image, points, colour, soft=0.8)


def _ribbons(image: Image.Image, pal: _Palette, rng: random.Random, w: int, h: int, hy: float) -> None:
    """Abstract mode: soft translucent waves sweeping across the lower part of the poster."""
    aspect = max(1.0, w / h)
    steps = max(16, min(160, w // 3))
    band = h - hy
    layers = rng.randint(2, 4)
    for i in range(layers):
        t = (i + 1) / layers
        colour = _mix(rng.choice(pal.shapes), pal.terrain_near, 0.3 + 0.55 * t)
        base_y = hy + band * (0.1 + 0.5 * t) - h * 0.12 * (1.0 - t)
        amplitude = min(h * 0.07, w * 0.25 + h * 0.02) * rng.uniform(0.6, 1.2)
        cycles = aspect * rng.uniform(0.5, 1.4)
        points = _wave_points(rng, w, h, base_y, amplitude, cycles, steps)
        layer_mask = Image.new("L", (w, h), 0)
        ImageDraw.Draw(layer_mask).polygon(points, fill=round(255 * (0.55 + 0.45 * t)))
        layer_mask = layer_mask.filter(ImageFilter.GaussianBlur(max(0.8, min(w, h) * 0.004)))
        image.paste(colour, (0, 0), layer_mask)


def _vignette(image: Image.Image, strength: float) -> None:
    lut = [round(255 * strength * _smoothstep((v / 128.0 - 0.55) / 0.9)) for v in range(256)]
    mask = Image.radial_gradient("L").point(lut).resize(image.size, Image.Resampling.BILINEAR)
    image.paste((0, 0, 0), (0, 0), mask)
