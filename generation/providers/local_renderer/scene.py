"""The local renderer's scene: sky, glow, floating shapes, hills or sea, ribbons and vignette,
painted from a palette with a seeded random stream."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFilter

from generation.providers.local_renderer.palette import RGB, Palette, mix, smoothstep

# The layers ``paint`` shows as it goes: the sky (with its stars), the sun or moon, the floating
# shapes, the ground or sea; the last step is the finished image.
STEPS = 5


def paint(
    pal: Palette, rng: random.Random, w: int, h: int, *, frame: Callable[[Image.Image, int], None] | None = None
) -> Image.Image:
    """The scene on a ``w`` x ``h`` canvas. ``frame(image, step)``, when given, is shown the
    canvas after each of the first STEPS - 1 layers (step 1 to 4): it must not change it. The
    pixels are the same with or without it."""
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
    if frame is not None:
        frame(image, 1)

    # Sun or moon, with a wide glow.
    sun_r = min(unit * rng.uniform(0.05, 0.11), 0.45 * min(w, h) + 2)
    sun_x = w * rng.uniform(0.18, 0.82)
    if pal.sunset or mode == "sea":
        sun_y = hy - sun_r * rng.uniform(-0.2, 1.8)
    else:
        sun_y = hy * rng.uniform(0.18, 0.6)
    _glow(image, sun_x, sun_y, sun_r * rng.uniform(4.0, 6.5), pal.glow, 0.55 if pal.night else 0.7)
    _disc(image, sun_x, sun_y, sun_r, pal.sun, 235, blur=max(0.6, sun_r * 0.06))
    if frame is not None:
        frame(image, 2)

    _floating_shapes(image, pal, rng, w, h, hy, unit, many=mode == "orbs")
    if frame is not None:
        frame(image, 3)

    if mode == "sea":
        _sea(image, pal, rng, w, h, hy, sun_x, sun_r)
    elif mode == "land":
        _hills(image, pal, rng, w, h, hy, layers=rng.randint(3, 5))
    else:
        _ribbons(image, pal, rng, w, h, hy)
    if frame is not None:
        frame(image, 4)

    _vignette(image, 0.35 if pal.night else 0.22)
    return image


def _sky(pal: Palette, rng: random.Random, w: int, h: int, horizon: float) -> Image.Image:
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
                    k = smoothstep((t - p0) / (p1 - p0)) if p1 > p0 else 1.0
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
    pal: Palette,
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


def _hills(image: Image.Image, pal: Palette, rng: random.Random, w: int, h: int, hy: float, *, layers: int) -> None:
    aspect = max(1.0, w / h)
    steps = max(16, min(160, w // 3))
    band = h - hy
    for i in range(layers):
        t = i / max(1, layers - 1)
        colour = mix(pal.terrain_far, pal.terrain_near, t**0.9)
        base_y = hy + band * (0.02 + 0.62 * t) + band * rng.uniform(-0.04, 0.04)
        amplitude = min(h * 0.16, band * 0.55, w * 0.3 + h * 0.02) * (1.0 - 0.45 * t) * rng.uniform(0.6, 1.1)
        cycles = aspect * rng.uniform(0.6, 1.6) * (1.0 + 0.4 * (layers - i) / layers)
        points = _wave_points(rng, w, h, base_y, amplitude, cycles, steps)
        _fill_polygon(image, points, colour, soft=0.6)


def _sea(
    image: Image.Image,
    pal: Palette,
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
        _fill_polygon(image, headland, mix(pal.terrain_far, pal.sky_low, 0.25), soft=0.6)
    water_top = mix(pal.sky_low, pal.terrain_near, 0.3)
    water_bottom = mix(pal.sky_low, pal.terrain_near, 0.8)
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
        colour = mix(water_top, pal.terrain_near, 0.25 + 0.6 * t)
        base_y = hy + band * (0.18 + 0.6 * t**1.3)
        amplitude = band * 0.03 * (0.5 + t) * rng.uniform(0.7, 1.2)
        cycles = aspect * rng.uniform(1.0, 2.2) * (2.0 - t)
        points = _wave_points(rng, w, h, base_y, amplitude, cycles, steps)
        _fill_polygon(image, points, colour, soft=0.8)


def _ribbons(image: Image.Image, pal: Palette, rng: random.Random, w: int, h: int, hy: float) -> None:
    """Abstract mode: soft translucent waves sweeping across the lower part of the poster."""
    aspect = max(1.0, w / h)
    steps = max(16, min(160, w // 3))
    band = h - hy
    layers = rng.randint(2, 4)
    for i in range(layers):
        t = (i + 1) / layers
        colour = mix(rng.choice(pal.shapes), pal.terrain_near, 0.3 + 0.55 * t)
        base_y = hy + band * (0.1 + 0.5 * t) - h * 0.12 * (1.0 - t)
        amplitude = min(h * 0.07, w * 0.25 + h * 0.02) * rng.uniform(0.6, 1.2)
        cycles = aspect * rng.uniform(0.5, 1.4)
        points = _wave_points(rng, w, h, base_y, amplitude, cycles, steps)
        layer_mask = Image.new("L", (w, h), 0)
        ImageDraw.Draw(layer_mask).polygon(points, fill=round(255 * (0.55 + 0.45 * t)))
        layer_mask = layer_mask.filter(ImageFilter.GaussianBlur(max(0.8, min(w, h) * 0.004)))
        image.paste(colour, (0, 0), layer_mask)


def _vignette(image: Image.Image, strength: float) -> None:
    lut = [round(255 * strength * smoothstep((v / 128.0 - 0.55) / 0.9)) for v in range(256)]
    mask = Image.radial_gradient("L").point(lut).resize(image.size, Image.Resampling.BILINEAR)
    image.paste((0, 0, 0), (0, 0), mask)
