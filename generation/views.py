"""The studio page. It renders the form from the catalog; the page's script posts to the REST API
(``POST /api/generate``) and follows the job over its event stream, so there is one way to
generate, not two."""

from django.conf import settings
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static

from catalog.models import ModelKind, Provider
from catalog.selectors import format_list, model_is_available, model_list, style_list
from credits.selectors import credits_price_per_image
from gallery.selectors import asset_list
from gallery.views import landing
from generation.labels import human_label
from generation.models import TERMINAL_STATUSES
from generation.selectors import generation_list

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
)


# Provider names short enough for a menu heading.
PROVIDER_LABELS = {Provider.LOCAL: "Local", **{p: p.label for p in Provider if p != Provider.LOCAL}}


def _model_spec(model) -> dict:
    """What the page's script needs to adapt the form to a model."""
    price = credits_price_per_image(model=model)
    return {
        "name": model.name,
        "kind": model.kind,
        "kind_label": ModelKind(model.kind).label,
        "provider_label": PROVIDER_LABELS.get(model.provider, model.provider),
        # What one image is charged (the extras of its kind included), and LoRAs' extra.
        "cost": price,
        "lora_extra": credits_price_per_image(model=model, params={"loras": [{}]}) - price,
        "available": model_is_available(model=model),
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
    }


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
    wanted = prefill.get("model") or settings.ATELIER_DEFAULT_MODEL
    selected = next((m.pk for m in models if m.pk == wanted or wanted in m.aliases), None)
    if selected is None:
        selected = next((m.pk for m in models if m.spec["available"]), models[0].pk if models else "")
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
        "image_counts": range(1, 5),
        "recent": asset_list(owner=request.user)[:RECENT_ASSETS],
        # Jobs still running when the page loads are followed again, so a reload loses nothing.
        "running": [
            {"id": str(g.pk), "prompt": g.prompt, "status": g.status}
            for g in generation_list(user=request.user).exclude(status__in=TERMINAL_STATUSES)[:RESUMED_JOBS]
        ],
    }
    return render(request, "generation/studio.html", context)


def favicon(request):
    return HttpResponsePermanentRedirect(static("favicon.ico"))
