"""The Training page: upload, price, start, follow live, samples, logs, cancel, and the LoRAs.

The page's script talks to the same REST API as every other client (upload, start with
``dry_run`` for the price, the job's event stream, cancel, generate with the LoRA).
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from catalog.models import ModelKind
from catalog.selectors import model_is_available, model_list
from teams.acting import acting_team
from training import selectors
from training.presenters import lora_as_dict, training_as_dict
from training.providers import training_providers
from training.services import training_price

RECENT_JOBS = 20


def _studio_models() -> dict[str, str]:
    """The model the studio opens for a LoRA trained on each provider: an available
    text-to-image model that applies it (the local renderer for local style adapters, a model
    that loads LoRAs for the others)."""
    chosen: dict[str, str] = {}
    for model in model_list(kind=ModelKind.TEXT_TO_IMAGE):
        if model.provider in chosen or not model_is_available(model=model):
            continue
        if model.provider == "local" or "loras" in model.supports:
            chosen[model.provider] = model.pk
    return chosen


def _studio_url(lora, models: dict[str, str]) -> str:
    """The studio with this LoRA chosen (and a model that applies it, when there is one)."""
    query = {"lora": str(lora.pk)}
    if lora.provider in models:
        query["model"] = models[lora.provider]
    return f"{reverse('studio')}?{urlencode(query)}"


@login_required
def training_page(request):
    # The space chosen in the header bar: the team's trainings and LoRAs, or the person's.
    team = acting_team(request)
    jobs = list(selectors.training_list(user=request.user, team=team)[:RECENT_JOBS])
    selected = None
    wanted = request.GET.get("job")
    if wanted:
        selected = next((job for job in jobs if str(job.pk) == wanted), None)
    if selected is None and jobs:
        selected = jobs[0]
    providers = [
        {
            "name": provider.name,
            "available": provider.is_configured(),
            "default_steps": provider.default_steps,
            "min_steps": provider.min_steps,
            "max_steps": provider.max_steps,
            "price": training_price(provider=provider.name, steps=provider.default_steps),
        }
        for provider in training_providers()
    ]
    studio_models = _studio_models()
    loras = []
    for lora in selectors.lora_list(user=request.user, team=team):
        loras.append({**lora_as_dict(lora), "studio_url": _studio_url(lora, studio_models)})
    return render(
        request,
        "training/training.html",
        {
            "jobs": [training_as_dict(job, brief=True) for job in jobs],
            "selected": training_as_dict(selected) if selected else None,
            "loras": loras,
            "providers": providers,
        },
    )
