"""Provider registry: the adapter for a provider name, and whether it can be used now."""

import logging

from core.errors import ProviderUnavailable
from generation.providers.base import Provider, ProviderJob, ProviderOutput, Reporter, Submission, Workflow
from generation.providers.comfyui import ComfyUIProvider
from generation.providers.fal import FalProvider
from generation.providers.huggingface import HuggingFaceProvider
from generation.providers.local import LocalProvider
from generation.providers.openai_images import OpenAIImagesProvider
from generation.providers.replicate import ReplicateProvider

logger = logging.getLogger(__name__)

_REGISTRY: dict[str, Provider] = {
    LocalProvider.name: LocalProvider(),
    HuggingFaceProvider.name: HuggingFaceProvider(),
    OpenAIImagesProvider.name: OpenAIImagesProvider(),
    ComfyUIProvider.name: ComfyUIProvider(),
    FalProvider.name: FalProvider(),
    ReplicateProvider.name: ReplicateProvider(),
}


def register(provider: Provider) -> None:
    """Adds an adapter under its name (self-hosted deployments may plug in their own)."""
    _REGISTRY[provider.name] = provider


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def get(name: str) -> Provider:
    provider = _REGISTRY.get(name)
    if provider is None or not provider.is_configured():
        raise ProviderUnavailable(f"Provider '{name}' is not configured on this server")
    return provider


def provider_names() -> list[str]:
    """The names of every registered provider, configured or not, sorted."""
    return sorted(_REGISTRY)


def providers_all() -> dict[str, Provider]:
    """Every registered provider by name, configured or not (a copy: register() adds one)."""
    return dict(_REGISTRY)


def providers_warm() -> list[str]:
    """Warms every configured provider (``Provider.warm``); the names of those warmed.

    A provider that fails to warm is logged and left cold: its first job loads it instead.
    """
    warmed = []
    for name, provider in _REGISTRY.items():
        try:
            if provider.is_configured():
                provider.warm()
                warmed.append(name)
        except Exception:
            logger.warning("Could not warm provider %s", name, exc_info=True)
    return warmed


def is_available(name: str) -> bool:
    provider = _REGISTRY.get(name)
    return provider is not None and provider.is_configured()


__all__ = [
    "Provider",
    "providers_warm",
    "ProviderJob",
    "Workflow",
    "ProviderOutput",
    "Reporter",
    "Submission",
    "get",
    "is_available",
    "provider_names",
    "providers_all",
    "register",
    "unregister",
]
