"""Input images leave storage with their row (a generation, or its owner, deleted)."""

import logging
from functools import partial

from django.db import transaction

from generation.models import GenerationInput

logger = logging.getLogger(__name__)


def generation_input_file_forget(*, generation_input: GenerationInput) -> None:
    """Removes the input's file once the deletion of its row commits."""
    if generation_input.file.name:
        transaction.on_commit(partial(_delete, storage=generation_input.file.storage, name=generation_input.file.name))


def _delete(*, storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        logger.exception("Could not delete input %s from storage", name)
