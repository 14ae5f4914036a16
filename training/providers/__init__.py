"""Training providers: ``local`` (the offline style-adapter trainer), ``fal`` and ``replicate``."""

from training.providers.base import TrainingProvider
from training.providers.fal import FalTraining
from training.providers.local import LocalTraining
from training.providers.replicate import ReplicateTraining

_REGISTRY: dict[str, TrainingProvider] = {}


def register(provider: TrainingProvider) -> None:
    _REGISTRY[provider.name] = provider


def training_provider(name: str) -> TrainingProvider:
    if not _REGISTRY:
        _load()
    return _REGISTRY[name]


def training_providers() -> list[TrainingProvider]:
    if not _REGISTRY:
        _load()
    return list(_REGISTRY.values())


def _load() -> None:
    for provider in (LocalTraining(), FalTraining(), ReplicateTraining()):
        register(provider)
