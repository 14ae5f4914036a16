"""What generation hands the apps below it and its signal receivers, connected when
GenerationConfig.ready() imports this module: the catalog learns which providers are available
(it never imports them), and a deleted input's file leaves the storage with it."""

from django.db.models.signals import post_delete

from catalog.selectors import provider_availability_check_set
from generation.models import GenerationInput
from generation.providers import is_available
from generation.services.inputs_cleanup import generation_input_file_forget


def generation_input_deleted(sender, instance, **kwargs) -> None:
    generation_input_file_forget(generation_input=instance)


provider_availability_check_set(is_available)
post_delete.connect(generation_input_deleted, sender=GenerationInput, dispatch_uid="generation-input-files")
