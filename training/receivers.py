"""What the training app hands generation, when TrainingConfig.ready() imports this module: how
LoRA ids resolve to what a provider takes, and how a local style adapter is loaded."""

from generation.loras import lora_support_set
from training.generation_loras import local_adapters, loras_resolve

lora_support_set(resolve=loras_resolve, local_adapters=local_adapters)
