"""A generation's parameters under fal's input names, per kind of model.

Sizes: fal's own presets where the requested size is exactly one of them, else
``{"width", "height"}``; models that take an aspect ratio get the nearest one they know.
Input images travel as data URIs.
"""

import base64
import io
import math

from generation.providers.base import ProviderJob

# fal's image_size presets and the pixels each stands for.
PRESETS = {
    (1024, 1024): "square_hd",
    (512, 512): "square",
    (768, 1024): "portrait_4_3",
    (576, 1024): "portrait_16_9",
    (1024, 768): "landscape_4_3",
    (1024, 576): "landscape_16_9",
}
_FLUX_RATIOS = ("21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21")
# Models sized by aspect ratio rather than pixels, and the ratios each accepts.
ASPECT_RATIOS = {
    "fal-ai/flux-pro/v1.1-ultra": _FLUX_RATIOS,
    "fal-ai/flux-pro/kontext": _FLUX_RATIOS,
    "fal-ai/flux-pro/kontext/max": _FLUX_RATIOS,
    "fal-ai/ideogram/v2": ("10:16", "16:10", "9:16", "16:9", "4:3", "3:4", "1:1", "1:3", "3:1", "3:2", "2:3"),
    "fal-ai/nano-banana": ("21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16"),
}
# Parameters passed through under the same name when the job carries them.
PASSTHROUGH = (
    "guidance_scale",
    "num_inference_steps",
    "strength",
    "controlnet_conditioning_scale",
    "enable_safety_checker",
    "sync_mode",
)
VIDEO_PARAMS = ("motion_bucket_id", "cond_aug", "fps")
FAL_FORMATS = ("png", "jpeg")


def data_uri(data: bytes, content_type: str = "image/png") -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def nearest_ratio(width: int, height: int, ratios: tuple[str, ...]) -> str:
    target = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = (int(part) for part in ratio.split(":"))
        return abs(math.log(w / h) - target)

    return min(ratios, key=distance)


def image_size(job: ProviderJob) -> str | dict:
    preset = PRESETS.get((job.width, job.height))
    return preset or {"width": job.width, "height": job.height}


def build(job: ProviderJob, *, params: dict) -> dict:
    """The JSON body fal's queue gets for this job."""
    if job.kind == "image-to-video":
        return _video(job, params=params)

    arguments: dict = {"prompt": job.prompt}
    if job.negative_prompt:
        arguments["negative_prompt"] = job.negative_prompt
    ratios = ASPECT_RATIOS.get(job.upstream_model)
    if ratios:
        arguments["aspect_ratio"] = nearest_ratio(job.width, job.height, ratios)
    elif job.kind != "upscale":
        arguments["image_size"] = params.get("image_size") or image_size(job)
    if job.kind != "upscale":
        arguments["num_images"] = job.num_images
    arguments["seed"] = job.seed
    for name in PASSTHROUGH:
        if params.get(name) is not None:
            arguments[name] = params[name]
    loras = params.get("loras")
    if loras:
        arguments["loras"] = [{"path": lora["path"], "scale": float(lora.get("scale", 1.0))} for lora in loras]
    # fal draws PNG or JPEG; other formats are asked as PNG and converted on arrival.
    arguments["output_format"] = job.output_format if job.output_format in FAL_FORMATS else "png"

    if job.image is not None:
        arguments["image_url"] = data_uri(job.image)
    if job.kind == "inpainting" and job.mask is not None:
        arguments["mask_url"] = data_uri(job.mask)
    if job.kind == "upscale" and job.image is not None:
        arguments["upscale_factor"] = params.get("upscale_factor") or _upscale_factor(job)
    return arguments


def _video(job: ProviderJob, *, params: dict) -> dict:
    arguments: dict = {"seed": job.seed}
    if job.image is not None:
        arguments["image_url"] = data_uri(job.image)
    for name in VIDEO_PARAMS:
        if params.get(name) is not None:
            arguments[name] = params[name]
    return arguments


def _upscale_factor(job: ProviderJob) -> float:
    """The requested output width over the input's, within what upscalers take (1-4)."""
    from PIL import Image

    with Image.open(io.BytesIO(job.image)) as picture:
        width = picture.width
    return round(min(4.0, max(1.0, job.width / max(width, 1))), 2)
