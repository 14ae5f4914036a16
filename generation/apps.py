from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from catalog.selectors import provider_availability_check_set
        from generation.providers import is_available

        provider_availability_check_set(is_available)
        from generation.models import GenerationInput
        from generation.services.inputs_cleanup import generation_input_file_forget

        post_delete.connect(
            lambda sender, instance, **kwargs: generation_input_file_forget(generation_input=instance),
            sender=GenerationInput,
            weak=False,
            dispatch_uid="generation-input-files",
        )
