"""Named image sizes (seed 003's presets), accepted wherever a size is.

Each names a size of its own: ``square`` is fal's standard square, half of ``square_hd``'s side.
"""

SIZE_PRESETS: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (1024, 1365),
    "portrait_16_9": (1024, 1820),
    "landscape_4_3": (1365, 1024),
    "landscape_16_9": (1820, 1024),
}
