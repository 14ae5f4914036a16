"""Checks a generation request against the limits of the model it asks for."""

from dataclasses import dataclass, field

from django.conf import settings

from catalog.models import AIModel, ModelKind
from catalog.selectors import format_names, format_size, setting_values
from core.errors import ValidationFailed
from generation.inputs.kinds import IMAGE_KINDS, MASK_KINDS, UPSCALE_FACTORS
from generation.loras import loras_resolve


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
    # Whether the request named a size; image kinds otherwise follow their input image's size.
    size_requested: bool = False


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


def generation_spec_build(*, model: AIModel, data: dict, user=None) -> GenerationSpec:
    """Turns validated API input into a spec within the model's limits, or raises ValidationFailed.

    ``user``: when given, LoRA ids must name that user's LoRAs (else the job checks the owner).
    """
    errors: dict[str, list[str]] = {}
    prompt = (data.get("prompt") or "").strip()
    if model.kind in (ModelKind.TEXT_TO_IMAGE, ModelKind.INPAINTING) and not prompt:
        errors["prompt"] = ["Prompt is required."]
    errors.update(_input_errors(model, data))
    loras = None
    if data.get("params", {}).get("loras"):
        # Charged extra and changing the picture, LoRAs are refused rather than quietly dropped;
        # ids of trained LoRAs become what the provider takes, their trigger words join the prompt.
        resolved = loras_resolve(model=model, loras=data["params"]["loras"], prompt=prompt, user=user)
        errors.update(resolved.errors)
        loras, prompt = resolved.loras, resolved.prompt

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
    if loras is not None:
        params["loras"] = loras
    defaults = setting_values(names=["default_steps", "default_format"])
    if "num_inference_steps" in model.supports and "num_inference_steps" not in params | model.defaults:
        if defaults.get("default_steps") is not None:
            params["num_inference_steps"] = defaults["default_steps"]
    _kind_params(model, params)
    output_format = (
        "mp4" if model.kind == ModelKind.IMAGE_TO_VIDEO else data.get("format") or defaults.get("default_format", "png")
    )
    _background_check(model, params, output_format)
    return GenerationSpec(
        prompt=prompt,
        negative_prompt=(data.get("negative_prompt") or "").strip(),
        width=width,
        height=height,
        num_images=num_images,
        seed=data.get("seed"),
        # A video model makes MP4 whatever image format is asked for.
        output_format=output_format,
        params=params,
        size_requested=any(data.get(name) for name in ("image_size", "width", "height")),
    )


def _given(data: dict, name: str) -> tuple[bool, bool]:
    return data.get(name) is not None, bool((data.get(f"{name}_url") or "").strip())


def _input_errors(model: AIModel, data: dict) -> dict[str, list[str]]:
    """Each kind's inputs (seed 001): an image for every image kind, a mask for inpainting only."""
    errors: dict[str, list[str]] = {}
    reused = data.get("inputs_from") is not None
    if reused and model.kind not in IMAGE_KINDS:
        errors["inputs_from"] = [f"{model.id} is a {model.kind} model and takes no input image."]
    for name, kinds, what in (("image", IMAGE_KINDS, "an input image"), ("mask", MASK_KINDS, "a mask")):
        has_file, has_url = _given(data, name)
        if has_file and has_url:
            errors[f"{name}_url"] = [f"Send the {name} as a file or as {name}_url, not both."]
        elif model.kind in kinds and not (has_file or has_url or reused):
            errors[name] = [f"{model.id} is a {model.kind} model: {what} is required ({name} file or {name}_url)."]
        elif model.kind not in kinds and (has_file or has_url):
            errors[name if has_file else f"{name}_url"] = [f"{model.id} is a {model.kind} model and takes no {name}."]
    return errors


def _kind_params(model: AIModel, params: dict) -> None:
    """Frame count and rate of a video, an upscaler's factor: the model's defaults, within caps."""
    errors: dict[str, list[str]] = {}
    if model.kind == ModelKind.IMAGE_TO_VIDEO:
        for name, cap in (("num_frames", settings.ATELIER_VIDEO_MAX_FRAMES), ("fps", settings.ATELIER_VIDEO_MAX_FPS)):
            if name not in params and model.defaults.get(name) is not None:
                params[name] = model.defaults[name]
            if name in params and params[name] > cap:
                errors[name] = [f"At most {cap} for {model.id}."]
    if model.kind == ModelKind.UPSCALE:
        params.setdefault("upscale_factor", model.defaults.get("upscale_factor", UPSCALE_FACTORS[0]))
        if params["upscale_factor"] not in UPSCALE_FACTORS:
            errors["upscale_factor"] = [f"Use one of: {', '.join(map(str, UPSCALE_FACTORS))}."]
    if errors:
        raise ValidationFailed(details=errors)


def _background_check(model: AIModel, params: dict, output_format: str) -> None:
    """A transparent background only from a model that draws one, in a format with alpha."""
    if params.get("background") != "transparent":
        return
    if not model.supports_transparency:
        raise ValidationFailed(details={"background": [f"{model.id} cannot make transparent backgrounds."]})
    if output_format not in ("png", "webp"):
        raise ValidationFailed(
            details={"background": [f"A transparent background needs png or webp, not {output_format}."]}
        )
