"""The local LoRA trainer: wall time, steps/s, loss and colour distance, process RSS."""
