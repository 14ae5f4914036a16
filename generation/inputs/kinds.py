"""Which model kinds take an input image, and which also take a mask."""

from catalog.models import ModelKind

IMAGE_KINDS = frozenset({ModelKind.IMAGE_TO_IMAGE, ModelKind.INPAINTING, ModelKind.IMAGE_TO_VIDEO, ModelKind.UPSCALE})
MASK_KINDS = frozenset({ModelKind.INPAINTING})
UPSCALE_FACTORS = (2, 4)
