"""Trained LoRAs in generations: resolving ``loras: [{path, scale}]`` and loading local adapters.

A ``path`` is either a URL or provider reference (passed through to models that take LoRAs) or
the id of one of the user's LoRAs. A local LoRA (a style adapter for the procedural renderer)
works with the ``local`` provider only; a fal-trained one is passed to fal's LoRA models as the
URL fal gave it. The LoRA's trigger word is added to the prompt when the prompt lacks it.
Generation calls these through generation/loras.py, which training/apps.py fills when it starts.
"""

from __future__ import annotations

import re
import uuid

from core.errors import ProviderError
from generation.loras import Resolved
from generation.models import Generation
from generation.providers.local_renderer import style_adapter
from teams.selectors import space_visible_q
from training.models import LoRA


def _as_id(path: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(path))
    except ValueError:
        return None


def _with_trigger(prompt: str, trigger: str) -> str:
    if not trigger or re.search(rf"(?<!\w){re.escape(trigger)}(?!\w)", prompt, flags=re.IGNORECASE):
        return prompt
    return f"{trigger} {prompt}".strip()


def loras_resolve(*, model, loras: list[dict], prompt: str, user=None) -> Resolved:
    """The LoRAs as the provider takes them, the prompt with their trigger words, or errors.

    ``user``: when given, a LoRA id must be one of that user's; without it the owner is checked
    when the job runs (the local provider fails a generation that names someone else's LoRA).
    """
    resolved = Resolved(loras=[], prompt=prompt)
    takes_loras = "loras" in model.supports
    for index, lora in enumerate(loras):
        lora_id = _as_id(lora["path"])
        if lora_id is None:
            if not takes_loras:
                resolved.errors["loras"] = [
                    f"{model.id} takes no LoRAs; choose a model that does (e.g. fal-ai/flux-lora)."
                ]
            resolved.loras.append(dict(lora))
            continue
        query = LoRA.objects.filter(pk=lora_id)
        if user is not None:
            # Their own LoRAs and those of the teams they belong to.
            query = query.filter(space_visible_q(user=user))
        row = query.first()
        if row is None:
            resolved.errors["loras"] = [f"LoRA {index + 1}: no LoRA of yours has the id {lora_id}."]
            continue
        if row.provider == "local":
            if model.provider != "local":
                resolved.errors["loras"] = [
                    f"LoRA {index + 1} is a style adapter for the local renderer; use it with a local model."
                ]
                continue
            resolved.loras.append({"path": str(row.pk), "scale": lora.get("scale", 1.0)})
        elif row.provider == "fal" and takes_loras and model.provider == "fal":
            resolved.loras.append({"path": row.provider_reference, "scale": lora.get("scale", 1.0)})
        else:
            resolved.errors["loras"] = [
                f"LoRA {index + 1} was trained on {row.provider} and cannot be used with {model.id}."
            ]
            continue
        resolved.prompt = _with_trigger(resolved.prompt, row.trigger_word)
    return resolved


def local_adapters(*, generation_id, loras: list[dict]) -> list[tuple[dict, float]]:
    """The adapters a local generation applies, each with its scale; only its owner's LoRAs."""
    user_id = Generation.objects.filter(pk=generation_id).values_list("user_id", flat=True).first()
    adapters = []
    for lora in loras:
        lora_id = _as_id(lora["path"])
        visible = space_visible_q(user=user_id)
        row = LoRA.objects.filter(visible, pk=lora_id, provider="local").first() if lora_id else None
        if row is None:
            raise ProviderError(f"LoRA {lora['path']} not found")
        try:
            with row.weights.open("rb") as handle:
                params = style_adapter.loads(handle.read())
        except (OSError, ValueError) as exc:
            raise ProviderError(f"LoRA {row.pk} cannot be read") from exc
        adapters.append((params, float(lora.get("scale", 1.0))))
    return adapters
