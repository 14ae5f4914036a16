"""The Training page: upload, price, start, follow live, samples, logs, cancel, and the LoRAs.

The page's script talks to the same REST API as every other client (upload, start with
``dry_run`` for the price, the job's event stream, cancel, generate with the LoRA).
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from training import selectors
from training.presenters import lora_as_dict, training_as_dict
from training.providers import training_providers
from training.services import training_price

RECENT_JOBS = 20


@login_required
def training_page(request):
    jobs = list(selectors.training_list(user=request.user)[:RECENT_JOBS])
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
    return render(
        request,
        "training/training.html",
        {
            "jobs": [training_as_dict(job, brief=True) for job in jobs],
            "selected": training_as_dict(selected) if selected else None,
            "loras": [lora_as_dict(lora) for lora in selectors.lora_list(user=request.user)],
            "providers": providers,
        },
    )
