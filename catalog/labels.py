"""Human words for the catalog's machine names, for the pages: ``square_hd`` is "Square HD",
``landscape_16_9`` is "Landscape 16:9", ``3d-render`` is "3D render", ``local/procedural`` is the
model's own name."""

import re

from catalog.selectors import model_get

# Words that are abbreviations, written as people write them.
_WORDS = {
    "hd": "HD",
    "sd": "SD",
    "sdxl": "SDXL",
    "3d": "3D",
    "2d": "2D",
    "4k": "4K",
    "8k": "8K",
    "ai": "AI",
    "lora": "LoRA",
}


def human_label(name: str) -> str:
    """A slug (``portrait_16_9``, ``digital-art``) as a label: capitalised, ratios with a colon."""
    if not name:
        return ""
    words = [word for word in re.split(r"[_\-\s]+", str(name)) if word]
    out: list[str] = []
    for word in words:
        lowered = word.lower()
        if lowered.isdigit() and out and out[-1].isdigit():
            # Two numbers in a row are an aspect ratio: 16 9 → 16:9.
            out[-1] = f"{out[-1]}:{lowered}"
            continue
        out.append(_WORDS.get(lowered, lowered))
    first = out[0]
    out[0] = first if first in _WORDS.values() else first[:1].upper() + first[1:]
    return " ".join(out)


def model_name(model_id: str) -> str:
    """A model's name for the pages; the id itself for a model the catalog no longer has."""
    if not model_id:
        return ""
    model = model_get(ref=model_id) or model_get(ref=model_id, active_only=False)
    return model.name if model is not None else model_id
