from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "LoRA training"

    def ready(self) -> None:
        from generation.loras import lora_support_set
        from training.generation_loras import local_adapters, loras_resolve

        lora_support_set(resolve=loras_resolve, local_adapters=local_adapters)
