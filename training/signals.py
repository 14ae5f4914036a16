"""Events the training app announces to whoever listens.

``training_completed`` is sent when a training has produced its LoRA, inside the transaction that
records it, with ``payload``: ``user_id``, ``training_id``, ``model_url``, ``lora_id`` and
``provider`` (seed 004's ``training.completed``). The outbound webhooks deliver it once that
transaction commits.
"""

from django.dispatch import Signal

training_completed = Signal()
