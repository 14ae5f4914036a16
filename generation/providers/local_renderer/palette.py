"""The local renderer's palette: words of the prompt to hues and moods, colour arithmetic, and
the seeded random streams every choice is drawn from."""

from __future__ import annotations

import colorsys
import hashlib
import json
import math
import random
import re

# Bump when the drawing changes, so that old and new outputs never share a random stream.
ALGORITHM_VERSION = "local-renderer-v1"

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


def seeded_rng(purpose: str, *parts: object) -> random.Random:
    payload = json.dumps([ALGORITHM_VERSION, purpose, *parts], ensure_ascii=True)
    digest = hashlib.sha256(payload.encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest, "big"))


def prompt_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def keyword(word: str) -> str:
    """Map simple plurals ("oceans", "forests") onto known keywords."""
    if word in _KEYWORD_HUES or len(word) < 4 or not word.endswith("s"):
        return word
    return word[:-1] if word[:-1] in _KEYWORD_HUES else word


def mute_amount(negative_prompt: str) -> float:
    count = len(prompt_words(negative_prompt))
    return 0.0 if count == 0 else min(0.4, 0.15 + 0.03 * count)


def hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(1.0, max(0.0, s)), min(1.0, max(0.0, v)))
    return round(r * 255), round(g * 255), round(b * 255)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def smoothstep(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return t * t * (3.0 - 2.0 * t)


class Palette:
    """Colours of one prompt: sky gradient stops, sun, shape and terrain colours."""

    def __init__(self, words: list[str], rng: random.Random) -> None:
        word_set = {keyword(w) for w in words} | set(words)
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
            key = keyword(word)
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
            top = hsv(h1 + 0.02, min(1.0, sat + 0.15), 0.10)
            mid = hsv(h1, sat + 0.05, 0.24)
            low = hsv(h2, sat * 0.8, 0.42)
        elif self.sunset:
            top = hsv(toward(h1, 0.7, 0.5), sat * 0.85, 0.42)
            mid = hsv(toward(h1, 0.93, 0.6), sat, 0.82)
            low = hsv(toward(h1, 0.09, 0.75), min(1.0, sat + 0.15), 1.0)
        elif self.soft:
            top = hsv(h1, sat * 0.9, 0.78)
            mid = hsv(h1 + 0.03, sat * 0.6, 0.9)
            low = hsv(h2, sat * 0.35, 0.98)
        else:
            top = hsv(h1, sat, 0.62)
            mid = hsv(h1 + 0.04, sat * 0.75, 0.86)
            low = hsv(h2, sat * 0.45, 0.97)
        self.sky_top, self.sky_mid, self.sky_low = top, mid, low

        if self.night:
            self.sun = hsv(h2 + 0.05, 0.12, 0.98)  # a pale moon
            self.glow = hsv(h2, 0.35, 0.75)
        elif self.sunset:
            self.sun = hsv(0.1, 0.45, 1.0)
            self.glow = hsv(0.07, 0.7, 1.0)
        else:
            self.sun = hsv(h2 + 0.03, 0.22, 1.0)
            self.glow = hsv(h2, 0.4, 1.0)

        self.shapes = [
            hsv(h1 + rng.uniform(-0.05, 0.05), sat * rng.uniform(0.6, 1.1), rng.uniform(0.75, 1.0)),
            hsv(h2 + rng.uniform(-0.05, 0.05), sat * rng.uniform(0.6, 1.1), rng.uniform(0.75, 1.0)),
            hsv((h1 + h2) / 2 + rng.choice((0.0, 0.5)), sat * 0.7, 0.95),
            hsv(h2 + 0.5, sat * 0.5, 1.0),
        ]
        # Terrain: far layers fade into the horizon colour, near layers are deep and dark.
        terrain_hue = h2 if rng.random() < 0.5 else h1 + 0.5 * rng.choice((0.0, 0.2, -0.2))
        far_v, near_v = (0.3, 0.05) if self.night else (0.55, 0.12) if self.sunset else (0.7, 0.22)
        self.terrain_far = mix(hsv(terrain_hue, sat * 0.8, far_v), self.sky_low, 0.45)
        self.terrain_near = hsv(terrain_hue + 0.04, min(1.0, sat * 1.1 + 0.1), near_v)


def toward(hue: float, target: float, amount: float) -> float:
    """Move ``hue`` towards ``target`` along the shorter way round the colour wheel."""
    delta = ((target - hue + 0.5) % 1.0) - 0.5
    return (hue + delta * amount) % 1.0
