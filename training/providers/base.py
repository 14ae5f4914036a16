"""What a training provider implements.

A local provider trains inside the worker (``train``). A remote one submits to the provider's
queue (``submit``) and is followed by short poll tasks or its webhook (``poll``), so no worker
is held while the provider trains.
"""

from dataclasses import dataclass, field

from django.conf import settings


@dataclass
class RemoteStatus:
    """What a remote provider says about a run."""

    state: str  # "queued", "running", "succeeded", "failed", "cancelled"
    logs: list[str] = field(default_factory=list)
    current_step: int | None = None
    error: str = ""
    # On success: the URLs of the weights and of the config, and the provider's own reference.
    weights_url: str = ""
    config_url: str = ""
    reference: str = ""


class TrainingProvider:
    name = ""
    remote = False
    default_steps = 500
    min_steps = 1
    max_steps = 10000
    default_learning_rate = 0.0004
    default_base_model = ""

    # The settings this provider needs, named in the answer when one is missing.
    required_settings: tuple[str, ...] = ()

    def is_configured(self) -> bool:
        raise NotImplementedError

    def missing_settings(self) -> list[str]:
        return [name for name in self.required_settings if not getattr(settings, name, None)]

    def train(self, *, job, lease: str) -> None:
        raise NotImplementedError

    def submit(self, *, job, webhook_url: str) -> str:
        raise NotImplementedError

    def poll(self, *, job) -> RemoteStatus:
        raise NotImplementedError

    def parse_webhook(self, *, job, payload: dict) -> RemoteStatus:
        raise NotImplementedError

    def cancel(self, *, job) -> bool:
        return False
