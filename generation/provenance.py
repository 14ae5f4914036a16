"""What made a generation's images, as the plain dict gallery writes inside each file.

Gallery knows nothing of generations (it sits below them), so the dict is built here and
handed down with the output (gallery.provenance documents its fields and formats).
"""

from django.conf import settings

from gallery.selectors import asset_find_by_url
from generation.models import Generation, GenerationInput
from generation.providers import ProviderOutput


def generation_provenance(*, generation: Generation, output: ProviderOutput) -> dict:
    """The metadata of one output; without the prompts when the generation keeps them out of its
    files (the request's ``embed_metadata``, else the owner's ``embed_prompt_metadata``)."""
    params = generation.params or {}
    defaults = generation.model.defaults or {}

    def param(name):
        return params.get(name, defaults.get(name))

    metadata = {
        "generator": "Atelier",
        "version": settings.ATELIER_VERSION,
        "generation_id": str(generation.pk),
        "prompt": generation.prompt,
        "final_prompt": generation.final_prompt if generation.final_prompt != generation.prompt else "",
        "negative_prompt": generation.negative_prompt,
        "model": generation.model_id,
        "provider": generation.provider,
        "seed": output.seed if output.seed is not None else generation.seed,
        "width": output.width,
        "height": output.height,
        "steps": param("num_inference_steps"),
        "guidance": param("guidance_scale"),
        "sampler": param("sampler") or param("scheduler") or "",
        "style": params.get("art_style") or "",
        "loras": [{"path": lora.get("path", ""), "scale": lora.get("scale", 1.0)} for lora in param("loras") or []],
        "source": _source(generation),
    }
    if not generation.embed_prompt_metadata:
        for name in ("prompt", "final_prompt", "negative_prompt"):
            metadata.pop(name)
    return {name: value for name, value in metadata.items() if value not in (None, "", [])}


def _source(generation: Generation) -> dict | None:
    """The input image of an image-to-image generation: where it came from and its digest, and
    the owner's asset when its URL is one of theirs."""
    row = GenerationInput.objects.filter(generation=generation, role=GenerationInput.Role.IMAGE).first()
    if row is None:
        return None
    source = {"sha256": row.sha256, "url": row.source_url}
    asset = asset_find_by_url(owner=generation.user, url=row.source_url) if row.source_url else None
    if asset is not None:
        source["asset_id"] = str(asset.pk)
        if asset.generation_id:
            source["generation_id"] = str(asset.generation_id)
    return source


def generation_input_image(generation: Generation) -> bytes | None:
    """The input image's bytes (image-to-image, inpainting), for the content credentials to
    name as the outputs' parent; None without one, or when its file is gone."""
    row = GenerationInput.objects.filter(generation=generation, role=GenerationInput.Role.IMAGE).first()
    if row is None or not row.file:
        return None
    try:
        with row.file.open("rb") as handle:
            return handle.read()
    except OSError:
        return None
