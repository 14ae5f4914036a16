"""Recall and remix: a new generation that starts from every setting of an earlier one.

``POST /api/generate`` with ``from_asset`` (one of the caller's images or videos) or
``remix_of`` (one of the caller's generations) takes what made it (model, prompt, negative
prompt, style, size, seed, steps, guidance, LoRAs with their scales, every other model
parameter, and the stored input image and mask), and any field the request names overrides it.
``generation_submit`` resolves it before anything else, so every route that makes images
remixes the same way and the new generation remembers its origin (``remix_of``).

``from_asset`` recalls that one image: its own seed and one image (image ``i`` of a batch was
made with ``seed + i``). ``remix_of`` recalls the whole generation: its seed and image count.
Ids name the caller's own objects only; another user's id reads as one that does not exist.
"""

from catalog.selectors import model_get
from core.errors import ValidationFailed
from gallery.selectors import asset_get
from generation.inputs.kinds import IMAGE_KINDS
from generation.models import Generation, GenerationInput
from generation.selectors import generation_get

# Params that record what happened rather than what was asked: never carried over.
_BOOKKEEPING_PARAMS = frozenset(
    {"art_style", "prompt_enhancement", "revised_prompt", "sync_mode", "negative_prompt_asked"}
)
# Request fields that name a size; any of them replaces the source's size.
_SIZE_FIELDS = ("image_size", "width", "height")


def generation_remix_source(*, user, data: dict) -> tuple[Generation, int | None] | None:
    """The generation a request remixes, with the seed of the one image it recalls (``from_asset``),
    or None when it remixes nothing. 400 (naming the field) for an id that is not the caller's."""
    asset_id, generation_id = data.get("from_asset"), data.get("remix_of")
    if asset_id is not None:
        asset = asset_get(owner=user, asset_id=asset_id)
        if asset is None:
            raise ValidationFailed("Unknown asset", details={"from_asset": ["You have no asset with this id."]})
        generation = generation_get(user=user, generation_id=asset.generation_id) if asset.generation_id else None
        if generation is None:
            raise ValidationFailed(
                "Nothing to remix", details={"from_asset": ["The generation that made this asset no longer exists."]}
            )
        return generation, asset.seed
    if generation_id is not None:
        generation = generation_get(user=user, generation_id=generation_id)
        # The caller's own: a teammate's generation is visible, but its inputs are theirs.
        if generation is None or generation.user_id != user.pk:
            raise ValidationFailed("Unknown generation", details={"remix_of": ["You have no generation with this id."]})
        return generation, None
    return None


def generation_settings(*, generation: Generation, seed: int | None = None, one_image: bool = False) -> dict:
    """What made ``generation``, as the canonical request fields that make it again."""
    params = dict(generation.params or {})
    settings = {
        "model": generation.model_id,
        "prompt": generation.prompt,
        "negative_prompt": generation.negative_prompt,
        "width": generation.width,
        "height": generation.height,
        "num_images": 1 if one_image else generation.num_images,
        "seed": seed if seed is not None else generation.seed,
        "params": {name: value for name, value in params.items() if name not in _BOOKKEEPING_PARAMS},
    }
    if generation.output_format in ("png", "jpeg", "webp"):
        settings["format"] = generation.output_format
    if params.get("prompt_enhancement"):
        # An enhanced prompt came from a writer that may not answer the same twice: the words it
        # wrote are sent as they are (the style already in them), with the negative prompt as sent.
        settings["prompt"] = generation.final_prompt or generation.prompt
    elif params.get("art_style"):
        settings["art_style"] = params["art_style"]
        # The stored negative prompt holds the style's additions; the user's own words get them again.
        settings["negative_prompt"] = params.get("negative_prompt_asked", generation.negative_prompt)
    if GenerationInput.objects.filter(generation=generation).exists():
        settings["inputs_from"] = generation.pk
    return settings


def generation_remix_apply(*, user, data: dict) -> dict:
    """``data`` with the settings of the generation it remixes filled in under its own fields, and
    ``remix_of`` naming that generation; ``data`` itself when it remixes nothing."""
    source = generation_remix_source(user=user, data=data)
    if source is None:
        return data
    generation, seed = source
    base = generation_settings(generation=generation, seed=seed, one_image=data.get("from_asset") is not None)
    merged = {key: value for key, value in data.items() if key != "from_asset"}
    merged["params"] = {**base.pop("params"), **(data.get("params") or {})}
    inputs_from = base.pop("inputs_from", None)
    sized = any(data.get(name) is not None for name in _SIZE_FIELDS)
    own_input = data.get("image") is not None or bool((data.get("image_url") or "").strip())
    model = model_get(ref=data.get("model") or base["model"])
    takes_input = model is not None and model.kind in IMAGE_KINDS
    if takes_input and inputs_from is not None and not own_input and "inputs_from" not in data:
        merged["inputs_from"] = inputs_from
        # The stored input is the size the source was made at: its size follows from it.
        sized = True
    for name, value in base.items():
        if name in ("width", "height"):
            if not sized:
                merged[name] = value
        elif name not in data:
            merged[name] = value
    merged["remix_of"] = generation.pk
    return merged
