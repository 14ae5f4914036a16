"""The studio page. It renders the form from the catalog; the page's script posts to the REST API
(``POST /api/generate``) and follows the job over its event stream, so there is one way to
generate, not two."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from catalog.models import ModelKind
from catalog.selectors import format_list, model_is_available, model_list, style_list
from credits.selectors import credits_cost
from gallery.selectors import asset_list
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


def _model_spec(model) -> dict:
    """What the page's script needs to adapt the form to a model."""
    return {
        "kind": model.kind,
        "cost": credits_cost(model=model, num_images=1),
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
    groups = []
    for kind, label in ModelKind.choices:
        members = [m for m in models if m.kind == kind]
        if members:
            groups.append({"label": label, "models": members})
    return groups


@login_required
def studio(request):
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
        size.label = size.name.replace("_", " ").capitalize()
    context = {
        "model_groups": _model_groups(models),
        "model_specs": specs,
        "selected_model": selected,
        "formats": formats,
        "styles": style_list(),
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
