"""Every write and rule of the training app, in three rooms.

``uploads`` — datasets: the plan's limits, an upload checked and stored as one zip, the dataset a
start names (by id, by the URL the upload answered, or from a ``data:`` URL).
``jobs`` — the price and the quote, the credit hold and the start (with its rate limit and the
plan's allowance), cancel, failure and the one refund a job may get.
``loras`` — the LoRA a finished job makes, its new name, its deletion with its files.

The API, the page, the admin, the runner and the providers call the names below.
"""

from training.services.jobs import (
    TrainingOutcome,
    TrainingQuote,
    training_cancel,
    training_dispatch,
    training_estimate_seconds,
    training_fail,
    training_price,
    training_quote,
    training_refund,
    training_start,
    unused_credits,
)
from training.services.loras import lora_create, lora_delete, lora_rename
from training.services.uploads import (
    dataset_create,
    dataset_for_training,
    dataset_limits,
    dataset_upload,
    dataset_upload_size_check,
)

__all__ = [
    "TrainingOutcome",
    "TrainingQuote",
    "dataset_create",
    "dataset_for_training",
    "dataset_limits",
    "dataset_upload",
    "dataset_upload_size_check",
    "lora_create",
    "lora_delete",
    "lora_rename",
    "training_cancel",
    "training_dispatch",
    "training_estimate_seconds",
    "training_fail",
    "training_price",
    "training_quote",
    "training_refund",
    "training_start",
    "unused_credits",
]
