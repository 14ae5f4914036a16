"""The studio page. It renders the form from the catalog; the page's script posts to the REST API
(``POST /api/generate``) and follows the job over its event stream, so there is one way to
generate, not two."""

import base64
import uuid

from django.conf import settings
from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse

from catalog.labels import human_label
from catalog.models import ModelKind, Provider
from catalog.selectors import (
    format_list,
    model_is_available,
    model_list,
    model_price_per_image,
    model_unavailable_reason,
    style_list,
)
from core.errors import ApplicationError
from gallery.imaging import thumbnail_from_image
from gallery.selectors import asset_list
from gallery.views import landing
from generation.models import TERMINAL_STATUSES
from generation.selectors import generation_get, generation_list
from generation.services.remix import generation_remix_source, generation_settings
from teams.acting import acting_team

# Kinds whose models start from the user's picture; inpainting also needs a mask.
IMAGE_INPUT_KINDS = {ModelKind.IMAGE_TO_IMAGE, ModelKind.INPAINTING, ModelKind.IMAGE_TO_VIDEO, ModelKind.UPSCALE}

RECENT_ASSETS = 8
RESUMED_JOBS = 5

# Query-string names the studio accepts to prefill its form ("use these settings again").
PREFILL_FIELDS = (
    "prompt",
    "negative_prompt",
    "model",
    "seed",
    "width",
    "height",
    "image_size",
    "num_images",
    "style",
    "num_inference_steps",
    "guidance_scale",
    "strength",
    "format",
    # One of the user's trained LoRAs (its id) or a LoRA weights URL, and its scale.
    "lora",
    "lora_scale",
    # An earlier generation of the user's whose reference image (and mask) the form reuses.
    "inputs_from",
)

# The long side of the reference image's preview when it is carried over from a generation.
REFERENCE_PREVIEW_SIZE = 320


# Provider names short enough for a menu heading.
PROVIDER_LABELS = {Provider.LOCAL: "Local", **{p: p.label for p in Provider if p != Provider.LOCAL}}


def _model_spec(model) -> dict:
    """What the page's script needs to adapt the form to a model."""
    price = model_price_per_image(model=model)
    return {
        "name": model.name,
        "kind": model.kind,
        "kind_label": ModelKind(model.kind).label,
        "provider_label": PROVIDER_LABELS.get(model.provider, model.provider),
        # What one image is charged (the extras of its kind included), and LoRAs' extra.
        "cost": price,
        "lora_extra": model_price_per_image(model=model, params={"loras": [{}]}) - price,
        "available": model_is_available(model=model),
        "unavailable_reason": model_unavailable_reason(model=model),
        "min_width": model.min_width,
        "max_width": model.max_width,
        "min_height": model.min_height,
        "max_height": model.max_height,
        "default_width": model.default_width,
        "default_height": model.default_height,
        "max_images": model.max_images,
        "supports": model.supports,
        "defaults": model.defaults,
        "needs_image": model.kind in IMAGE_INPUT_KINDS,
        "takes_image": model.kind in IMAGE_INPUT_KINDS or "image_url" in model.supports,
        "takes_mask": model.kind == ModelKind.INPAINTING or "mask" in model.supports,
        "description": model.description,
        "provider": model.provider,
        # LoRA weights by URL or provider reference (the API's loras[].path).
        "takes_loras": "loras" in model.supports,
        # Whether its jobs show in-progress pictures (the studio's previews checkbox says so).
        "supports_previews": model.supports_previews,
        "lora_providers": _lora_providers(model),
    }


def _lora_providers(model) -> list[str]:
    """Whose trained LoRAs the model applies, as the generate endpoint resolves them
    (generation/loras.py, filled by the training app): the local trainer's style adapters on the local renderer's
    pictures (a video is not restyled), fal-trained LoRAs on fal's models that take LoRAs.
    Replicate keeps its LoRAs as model versions of its own, which no catalog model loads."""
    if model.provider == Provider.LOCAL:
        return [] if model.kind == ModelKind.IMAGE_TO_VIDEO else [Provider.LOCAL.value]
    return [Provider.FAL.value] if model.provider == Provider.FAL and "loras" in model.supports else []


def _model_groups(models) -> list[dict]:
    """The picker's groups: one per kind and provider, the usable ones first (in kind order),
    then the groups whose provider is not configured here, which the page folds away."""
    groups = []
    for kind, kind_label in ModelKind.choices:
        for provider in dict.fromkeys(m.provider for m in models if m.kind == kind):
            members = [m for m in models if m.kind == kind and m.provider == provider]
            available = [m for m in members if m.spec["available"]]
            groups.append(
                {
                    "label": f"{kind_label} · {PROVIDER_LABELS.get(provider, provider)}",
                    "models": available + [m for m in members if not m.spec["available"]],
                    "available": bool(available),
                }
            )
    return [g for g in groups if g["available"]] + [g for g in groups if not g["available"]]


def studio(request):
    # Visitors see what Atelier is and how to join; the studio is for signed-in users.
    if not request.user.is_authenticated:
        return landing(request)
    return _studio(request)


def _studio(request):
    models = model_list()
    specs = {model.pk: _model_spec(model) for model in models}
    for model in models:
        model.spec = specs[model.pk]
    prefill = {name: request.GET[name] for name in PREFILL_FIELDS if request.GET.get(name)}
    # "Use all settings": every setting of one of the user's images, over the query string's.
    remixed = _remix_prefill(user=request.user, asset_id=request.GET.get("from_asset"))
    if remixed is not None:
        prefill.update(remixed)
    wanted = prefill.get("model") or settings.ATELIER_DEFAULT_MODEL
    selected = next((m.pk for m in models if m.pk == wanted or wanted in m.aliases), None)
    if selected is None:
        selected = next((m.pk for m in models if m.spec["available"]), models[0].pk if models else "")
    reference = _reference(user=request.user, generation_id=prefill.get("inputs_from"))
    if reference is None:
        prefill.pop("inputs_from", None)
    formats = list(format_list())
    for size in formats:
        size.label = human_label(size.name)
    styles = list(style_list())
    for style in styles:
        style.label = human_label(style.name)
    context = {
        "model_groups": _model_groups(models),
        "model_specs": specs,
        "selected_model": selected,
        "formats": formats,
        "styles": styles,
        "unavailable_count": sum(1 for m in models if not m.spec["available"]),
        "prefill": prefill,
        "custom_size": bool(prefill.get("width") and prefill.get("height")),
        "reference": reference,
        # The LoRA picker is filled by the page's script from GET /api/loras.
        "lora_prefill": {"lora": prefill.get("lora", ""), "scale": prefill.get("lora_scale", "")},
        "image_counts": range(1, 5),
        "recent": asset_list(owner=request.user, team=acting_team(request))[:RECENT_ASSETS],
        # Jobs still running when the page loads are followed again, so a reload loses nothing.
        "running": [
            {"id": str(g.pk), "prompt": g.prompt, "status": g.status}
            for g in generation_list(user=request.user).exclude(status__in=TERMINAL_STATUSES)[:RESUMED_JOBS]
        ],
    }
    return render(request, "generation/studio.html", context)


def _remix_prefill(*, user, asset_id) -> dict | None:
    """The form's fields filled with every setting of one of the user's images (``from_asset``,
    which the form sends back so that the API remixes it), or None for an id that is not theirs."""
    if not asset_id:
        return None
    try:
        source = generation_remix_source(user=user, data={"from_asset": uuid.UUID(str(asset_id))})
    except (ValueError, ApplicationError):
        return None
    generation, seed = source
    settings_ = generation_settings(generation=generation, seed=seed, one_image=True)
    params = settings_["params"]
    prefill = {
        "from_asset": str(asset_id),
        "model": settings_["model"],
        "prompt": settings_["prompt"],
        "negative_prompt": settings_["negative_prompt"],
        "style": settings_.get("art_style", ""),
        "seed": settings_["seed"],
        "width": settings_["width"],
        "height": settings_["height"],
        "num_images": settings_["num_images"],
        "format": settings_.get("format", ""),
        "num_inference_steps": params.get("num_inference_steps"),
        "guidance_scale": params.get("guidance_scale"),
        "strength": params.get("strength"),
        "inputs_from": settings_.get("inputs_from"),
    }
    loras = params.get("loras") or []
    if loras:
        prefill.update(lora=loras[0].get("path", ""), lora_scale=loras[0].get("scale", 1.0))
    return {name: str(value) for name, value in prefill.items() if value not in (None, "")}


def _reference(*, user, generation_id) -> dict | None:
    """The reference image of one of the user's generations, reused by "use these settings
    again": its id for the API's ``inputs_from`` and a small preview. Inputs have no URL of their
    own, so the preview travels inside the page as a data URL."""
    try:
        generation_id = uuid.UUID(str(generation_id))
    except ValueError:
        return None
    generation = generation_get(user=user, generation_id=generation_id)
    if generation is None:
        return None
    inputs = {row.role: row for row in generation.inputs.all()}
    image = inputs.get("image")
    if image is None:
        return None
    try:
        with image.file.open("rb") as handle:
            preview = thumbnail_from_image(handle, size=REFERENCE_PREVIEW_SIZE, quality=80)
    except OSError:
        return None
    return {
        "generation": str(generation.pk),
        "preview": "data:image/webp;base64," + base64.b64encode(preview).decode(),
        "width": image.width,
        "height": image.height,
        "has_mask": "mask" in inputs,
    }


def studio_alias(request):
    """``/studio`` (with its query string) is the studio at ``/``."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponseRedirect(reverse("studio") + (f"?{query}" if query else ""))


def favicon(request):
    return HttpResponsePermanentRedirect(static("favicon.ico"))
