"""fal-ai/flux-lora-fast-training on the fake fal queue (PROTOCOLS.md §1.10).

The queue behaves as for any endpoint (tests/fakes/fal.py); the result is the trainer's:
``diffusers_lora_file`` (a real .safetensors file) and ``config_file`` (JSON), served under
``/files/``. The input's ``images_data_url`` must be a zip of images, as fal requires.
"""

import base64
import io
import json
import zipfile

APP = "fal-ai/flux-lora-fast-training"


def lora_weights() -> bytes:
    import numpy as np
    from safetensors.numpy import save

    return save({"transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight": np.zeros((4, 8), np.float32)})


def images_in(arguments: dict) -> int:
    url = arguments.get("images_data_url") or ""
    head, _, payload = url.partition(",")
    if not head.startswith("data:application/zip"):
        return 0
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(payload))) as archive:
        return sum(1 for name in archive.namelist() if name.lower().endswith((".png", ".jpg", ".jpeg", ".webp")))


def training_result(fake, job) -> dict:
    if images_in(job.arguments) == 0:
        return {"detail": [{"loc": ["body", "images_data_url"], "msg": "no images found", "type": "value_error"}]}
    config = {"trigger_word": job.arguments.get("trigger_word"), "steps": job.arguments.get("steps")}
    return {
        "diffusers_lora_file": fake._file(job, lora_weights(), "application/octet-stream", "safetensors"),
        "config_file": fake._file(job, json.dumps(config).encode(), "application/json", "json"),
    }
