"""Checks a generation request against the limits of the model it asks for."""

from dataclasses import dataclass, field

from catalog.models import AIModel, ModelKind
from catalog.selectors import format_names, format_size, setting_values
from ops.errors import ValidationFailed


@dataclass(frozen=True)
class GenerationSpec:
    prompt: str
    negative_prompt: str
    width: int
    height: int
    num_images: int
    seed: int | None
    output_format: str
    params: dict = field(default_factory=dict)


def _size(model: AIModel, image_size, width: int | None, height: int | None) -> tuple[int, int]:
    if isinstance(image_size, str):
        # A format from the catalog (editable), else one of the built-in presets.
        size = format_size(name=image_size)
        if size is None:
            raise ValidationFailed(
                details={"image_size": [f"Unknown size '{image_size}'. Use one of: {', '.join(format_names())}."]}
            )
        return size
    if isinstance(image_size, dict):
        return image_size["width"], image_size["height"]
    return width or model.default_width, height or model.default_height


def generation_spec_build(*, model: AIModel, data: dict) -> GenerationSpec:
    """Turns validated API input into a spec within the model's limits, or raises ValidationFailed."""
    errors: dict[str, list[str]] = {}
    prompt = (data.get("prompt") or "").strip()
    if model.kind in (ModelKind.TEXT_TO_IMAGE, ModelKind.INPAINTING) and not prompt:
        errors["prompt"] = ["Prompt is required."]

    width, height = _size(model, data.get("image_size"), data.get("width"), data.get("height"))
    if not model.min_width <= width <= model.max_width:
        errors["width"] = [f"Width must be between {model.min_width} and {model.max_width} for {model.id}."]
    if not model.min_height <= height <= model.max_height:
        errors["height"] = [f"Height must be between {model.min_height} and {model.max_height} for {model.id}."]

    num_images = data.get("num_images", 1)
    if num_images > model.max_images:
        errors["num_images"] = [f"{model.id} makes at most {model.max_images} image(s) per request."]

    if errors:
        raise ValidationFailed(details=errors)

    params = {key: value for key, value in data.get("params", {}).items() if value is not None}
    defaults = setting_values(names=["default_steps", "default_format"])
    if "num_inference_steps" in model.supports and "num_inference_steps" not in params | model.defaults:
        if defaults.get("default_steps") is not None:
            params["num_inference_steps"] = defaults["default_steps"]
    return GenerationSpec(
        prompt=prompt,
        negative_prompt=(data.get("negative_prompt") or "").strip(),
        width=width,
        height=height,
        num_images=num_images,
        seed=data.get("seed"),
        output_format=data.get("format") or defaults.get("default_format", "png"),
        params=params,
    )
