"""Trained LoRAs in generations, as generation sees them: resolved and loaded through the training app.

The LoRAs a user trains are the training app's rows; it hands generation how to resolve them
(``loras: [{path, scale}]`` into what the provider takes, with trigger words added to the prompt)
and how to load a local style adapter, when it starts (training/apps.py). Generation therefore
never imports training. Until then (or without the training app) a ``path`` passes through as a
URL or provider reference, and no trained adapter can be loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.errors import ProviderError


@dataclass
class Resolved:
    loras: list[dict]
    prompt: str
    errors: dict[str, list[str]] = field(default_factory=dict)


def _pass_through(*, model, loras: list[dict], prompt: str, user=None) -> Resolved:
    resolved = Resolved(loras=[dict(lora) for lora in loras], prompt=prompt)
    if "loras" not in model.supports:
        resolved.errors["loras"] = [f"{model.id} takes no LoRAs; choose a model that does (e.g. fal-ai/flux-lora)."]
    return resolved


def _no_adapters(*, generation_id, loras: list[dict]) -> list[tuple[dict, float]]:
    raise ProviderError("Trained LoRAs cannot be loaded on this server")


_resolve: Callable[..., Resolved] = _pass_through
_local_adapters: Callable[..., list[tuple[dict, float]]] = _no_adapters


def lora_support_set(*, resolve: Callable[..., Resolved], local_adapters: Callable[..., list]) -> None:
    """Called by the training app when it starts: how LoRAs are resolved and adapters loaded."""
    global _resolve, _local_adapters
    _resolve, _local_adapters = resolve, local_adapters


def loras_resolve(*, model, loras: list[dict], prompt: str, user=None) -> Resolved:
    """The LoRAs as the provider takes them, the prompt with their trigger words, or errors.

    ``user``: when given, a LoRA id must be one of that user's; without it the owner is checked
    when the job runs (the local provider fails a generation that names someone else's LoRA).
    """
    return _resolve(model=model, loras=loras, prompt=prompt, user=user)


def local_adapters(*, generation_id, loras: list[dict]) -> list[tuple[dict, float]]:
    """The style adapters a local generation applies, each with its scale; only its owner's LoRAs."""
    return _local_adapters(generation_id=generation_id, loras=loras)
