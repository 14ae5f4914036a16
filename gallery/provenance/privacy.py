"""A file's metadata without its prompts: what a public share link serves unless the owner shares
their prompts (the preference ``share_prompt_metadata``).

The rest of what made the image (model, seed, size, settings, LoRAs, the source, Atelier's
version) stays, spliced in again without touching the pixels, exactly as ``metadata_embed``
writes it for an owner who keeps prompts out of every file.
"""

import io

from PIL import Image

from gallery.provenance import EMBEDDABLE, metadata_embed, metadata_from_image
from gallery.provenance.containers import png_embed
from gallery.provenance.parameters import parameters_without_prompts

# Atelier's fields that hold what the user wrote.
PROMPT_FIELDS = frozenset({"prompt", "final_prompt", "negative_prompt"})


def metadata_without_prompts(data: bytes, fmt: str) -> bytes:
    """``data`` (an encoded ``fmt`` image) with the prompt and negative prompt taken out of its
    metadata, in Atelier's record and in the common ``parameters`` text; other formats, and
    files that carry no metadata, unchanged."""
    fmt = "jpeg" if fmt == "jpg" else fmt.lower()
    if fmt not in EMBEDDABLE:
        return data
    with Image.open(io.BytesIO(data)) as image:
        found = metadata_from_image(image)
    if not found["found"]:
        return data
    atelier = {name: value for name, value in (found["atelier"] or {}).items() if name not in PROMPT_FIELDS}
    # Atelier's record makes its text again; another tool's text keeps its settings line.
    text = None if atelier else parameters_without_prompts(found["parameters"])
    if not atelier and not text and fmt == "png":
        # Nothing is left to say: the text chunks go, and nothing takes their place.
        return png_embed(data, text="", blob="")
    return metadata_embed(data, fmt, atelier, parameters=text or None)
