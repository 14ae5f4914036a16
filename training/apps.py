from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "LoRA training"

    def ready(self) -> None:
        from training import receivers  # noqa: F401 - hands generation its LoRA support
