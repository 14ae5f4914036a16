"""Training images and uploads made on the spot: a warm, grainy "film" look the renderer lacks."""

import io
import zipfile

import numpy as np
from PIL import Image


def style_images(count: int = 6, *, size: int = 256, seed: int = 0) -> list[Image.Image]:
    """Sepia-toned gradients with grain: a style far from the procedural renderer's colours."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        y = np.linspace(0, 1, size)[:, None]
        tone = 0.35 + 0.3 * y + 0.15 * rng.random() + np.zeros((size, size))
        pixels = np.stack([tone, tone * 0.8, tone * 0.55], axis=-1) + rng.normal(0, 0.06, (size, size, 1))
        images.append(Image.fromarray(np.uint8(np.clip(pixels, 0, 1) * 255)))
    return images


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def upload_file(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def image_files(count: int = 6, *, size: int = 256, seed: int = 0) -> list:
    return [
        upload_file(f"photo_{i}.png", png(image)) for i, image in enumerate(style_images(count, size=size, seed=seed))
    ]


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(client, files) -> dict:
    response = client.post("/api/training/upload", {"files[]": files}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def start(client, dataset: dict, **body):
    payload = {"images_data_url": dataset["images_data_url"], "trigger_word": "filmlook", "steps": 60, **body}
    return client.post("/api/training/start", payload, format="json")
