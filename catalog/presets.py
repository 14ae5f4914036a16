"""Named image sizes (seed 003's presets), accepted wherever a size is."""

SIZE_PRESETS: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (1024, 1024),
    "portrait_4_3": (1024, 1365),
    "portrait_16_9": (1024, 1820),
    "landscape_4_3": (1365, 1024),
    "landscape_16_9": (1820, 1024),
}
