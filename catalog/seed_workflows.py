"""The ComfyUI workflow templates shipped with the catalog (plain data, seeded by a migration).

``text-to-image`` is the standard checkpoint graph of ComfyUI's own API example: checkpoint
loader, positive and negative CLIP text encoders, empty latent, KSampler, VAE decode, save.
"""

DEFAULT_WORKFLOW = "text-to-image"

WORKFLOWS: list[dict] = [
    {
        "name": DEFAULT_WORKFLOW,
        "description": "Text to image with a Stable Diffusion checkpoint (ComfyUI's default graph).",
        "graph": {
            "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
            "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
            "3": {
                "class_type": "KSampler",
                "inputs": {
                    "seed": 0,
                    "steps": 20,
                    "cfg": 8.0,
                    "sampler_name": "euler",
                    "scheduler": "normal",
                    "denoise": 1.0,
                    "model": ["4", 0],
                    "positive": ["6", 0],
                    "negative": ["7", 0],
                    "latent_image": ["5", 0],
                },
            },
            "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
            "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "Atelier", "images": ["8", 0]}},
        },
        "slots": {
            "checkpoint": ["4", "ckpt_name"],
            "prompt": ["6", "text"],
            "negative_prompt": ["7", "text"],
            "width": ["5", "width"],
            "height": ["5", "height"],
            "batch_size": ["5", "batch_size"],
            "seed": ["3", "seed"],
            "steps": ["3", "steps"],
            "cfg": ["3", "cfg"],
        },
    },
]
