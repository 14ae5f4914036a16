"""Inpainting masks: one 8-bit channel the size of the image, white where the image is repainted.

A mask with transparency is read as painted strokes on nothing: its transparent parts are laid
on black (kept), so both a black-and-white mask and a brush layer exported with alpha work.
"""

from PIL import Image, ImageOps

from generation.inputs.uploads import NormalisedImage, image_decode, invalid, normalised


def mask_normalise(data: bytes, *, field: str, image: NormalisedImage, source_url: str = "") -> NormalisedImage:
    """The mask as mode ``L`` PNG matching the normalised ``image`` pixel for pixel, or a 400.

    A mask of another size is first stretched over the uploaded image, then cropped or resized
    exactly as the image was.
    """
    mask = image_decode(data, field=field)
    if mask.mode in ("RGBA", "LA", "PA") or (mask.mode == "P" and "transparency" in mask.info):
        rgba = mask.convert("RGBA")
        mask = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
    mask = mask.convert("L")
    if image.source_size != (0, 0) and mask.size != image.source_size:
        mask = mask.resize(image.source_size, Image.Resampling.BILINEAR)
    size = (image.width, image.height)
    if mask.size != size:
        if image.cropped:
            mask = ImageOps.fit(mask, size, Image.Resampling.BILINEAR)
        else:
            mask = mask.resize(size, Image.Resampling.BILINEAR)
    if mask.getextrema()[1] == 0:
        raise invalid(field, "The mask is all black: paint the area to repaint in white.")
    return normalised(mask, source_url=source_url)
