"""The offline prompt composer: weaves the user's choices into the topic, deterministically.

No network and no randomness: the same topic, choices and style always give the same prompt.
Known choice values get a richer phrase; any other value is used as the user wrote it.
"""

from dataclasses import dataclass

from catalog.models import Style


@dataclass(frozen=True)
class Choices:
    color_scheme: str = ""
    lighting_mood: str = ""
    subject_focus: str = ""
    background_style: str = ""
    effects_filters: str = ""

    def as_dict(self) -> dict[str, str]:
        return {name: value for name, value in self.__dict__.items() if value}


_SUBJECT_FOCUS = {
    "close up": "close-up shot",
    "portrait": "portrait framing",
    "full body": "full-body shot",
    "wide": "wide shot",
    "wide angle": "wide-angle view",
    "macro": "macro shot with fine detail",
    "centered": "centered composition",
    "rule of thirds": "rule-of-thirds composition",
    "aerial": "aerial view",
    "landscape": "sweeping landscape view",
}
_BACKGROUND = {
    "blurred": "softly blurred background with shallow depth of field",
    "bokeh": "creamy bokeh background",
    "plain": "plain uncluttered background",
    "white": "clean white background",
    "black": "deep black background",
    "dark": "dark background",
    "gradient": "smooth gradient background",
    "detailed": "richly detailed background",
    "nature": "natural outdoor background",
    "urban": "urban city background",
    "studio": "seamless studio backdrop",
}
_COLOR_SCHEME = {
    "warm": "warm color palette of amber, gold and soft red tones",
    "cool": "cool color palette of blues, teals and silver",
    "vibrant": "vibrant, saturated colors",
    "pastel": "soft pastel colors",
    "muted": "muted, desaturated colors",
    "monochrome": "monochrome palette",
    "black and white": "black and white",
    "earthy": "earthy palette of browns, ochres and olive greens",
    "neon": "glowing neon colors",
    "complementary": "complementary color contrast",
}
_LIGHTING_MOOD = {
    "natural": "soft natural lighting",
    "soft": "soft diffused light",
    "bright": "bright, airy lighting",
    "dramatic": "dramatic lighting with deep shadows",
    "moody": "moody low-key lighting",
    "golden hour": "warm golden hour light",
    "sunset": "glowing sunset light",
    "studio": "even studio lighting",
    "cinematic": "cinematic lighting",
    "backlit": "backlit with a glowing rim light",
    "night": "night-time lighting with glowing highlights",
    "neon": "neon-lit atmosphere",
}
_EFFECTS_FILTERS = {
    "film grain": "subtle film grain",
    "vintage": "vintage film look",
    "bokeh": "bokeh highlights",
    "hdr": "HDR",
    "glow": "soft glow",
    "vignette": "gentle vignette",
    "sepia": "sepia toning",
    "lens flare": "lens flare",
    "motion blur": "motion blur",
    "tilt shift": "tilt-shift miniature effect",
}
# Values that mean "no choice".
_NOTHING = {"", "none", "no", "default", "auto", "any"}


def _key(value: str) -> str:
    return " ".join(value.lower().replace("-", " ").replace("_", " ").split())


def _phrase(value: str, vocabulary: dict[str, str], suffix: str) -> str:
    key = _key(value)
    if key in _NOTHING:
        return ""
    if key in vocabulary:
        return vocabulary[key]
    text = value.strip()
    return text if not suffix or suffix in key else f"{text} {suffix}"


def compose_prompt(*, topic: str, choices: Choices, style: Style | None) -> str:
    """The topic, then framing, background, colours, light and effects, wrapped in the style's template."""
    parts = [
        topic.strip(),
        _phrase(choices.subject_focus, _SUBJECT_FOCUS, "framing"),
        _phrase(choices.background_style, _BACKGROUND, "background"),
        _phrase(choices.color_scheme, _COLOR_SCHEME, "color scheme"),
        _phrase(choices.lighting_mood, _LIGHTING_MOOD, "lighting"),
        _phrase(choices.effects_filters, _EFFECTS_FILTERS, ""),
    ]
    seen: set[str] = set()
    body = ", ".join(part for part in parts if part and not (part.lower() in seen or seen.add(part.lower())))
    if style is not None:
        return style.apply(body)
    return f"{body}, highly detailed, balanced composition"
