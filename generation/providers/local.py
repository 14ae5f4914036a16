"""The offline ``local`` provider: a deterministic procedural renderer, not an AI model.

It always works, needs no key and no network, and gives the same pixels for the same
prompt, seed and size, which makes it the default of the embedded run and of the tests. A text-to-image job shows its
canvas as each layer is painted (sky, sun, shapes, ground): real in-progress pictures, sent
when the job wants previews; ``ATELIER_LOCAL_PAINT_DELAY_MS`` slows the painting down between
layers for a demo that lets the painting be watched (0 by default).
"""

import io
import time

from django.conf import settings
from PIL import Image

from core.errors import ProviderError
from generation.providers import local_edit, local_renderer, local_video
from generation.providers.base import Provider, ProviderJob, ProviderOutput, Reporter, Submission
from generation.providers.local_renderer import style_adapter


class LocalProvider(Provider):
    name = "local"
    capabilities = frozenset({"text-to-image", "image-to-image", "inpainting", "image-to-video", "upscale"})
    needs = frozenset({"style_adapters"})

    def is_configured(self) -> bool:
        return True

    def warm(self) -> None:
        # The WebP encoder its previews use, loaded once in the worker's main process.
        Image.new("RGB", (8, 8)).save(io.BytesIO(), format="WEBP")

    def submit(self, job: ProviderJob, *, reporter: Reporter) -> Submission:
        if job.kind != "text-to-image" and job.image is None:
            raise ProviderError(f"A {job.kind} job needs an input image")
        outputs = []
        for index in range(job.num_images):
            frame = _frames(job, reporter=reporter, index=index)
            output = _make(job, seed=_image_seed(job.seed, index), adapters=job.style_adapters, frame=frame)
            outputs.append(output)
            reporter.step(
                round((index + 1) * 100 / job.num_images), f"Rendered {output.type} {index + 1} of {job.num_images}"
            )
        return Submission(outputs=outputs)


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _frames(job: ProviderJob, *, reporter: Reporter, index: int):
    """What shows the reporter the canvas of image ``index`` as it is painted (text to image,
    when the job wants previews): steps count through the batch, STEPS per image."""
    if not job.previews or job.kind != "text-to-image":
        return None
    total = local_renderer.STEPS * job.num_images
    pause = settings.ATELIER_LOCAL_PAINT_DELAY_MS / 1000

    def frame(image: Image.Image, step: int) -> None:
        reporter.preview(image, step=index * local_renderer.STEPS + step, total_steps=total)
        if pause > 0:
            time.sleep(pause)

    return frame


def _make(job: ProviderJob, *, seed: int, adapters: list = (), frame=None) -> ProviderOutput:
    """One output of the job's kind; every kind but text-to-image starts from the input image."""
    if job.kind == "image-to-video":
        num_frames = int(job.params.get("num_frames") or local_video.DEFAULT_FRAMES)
        fps = int(job.params.get("fps") or local_video.DEFAULT_FPS)
        data, width, height = local_video.encode_mp4(_open(job.image), seed=seed, num_frames=num_frames, fps=fps)
        return ProviderOutput(data=data, format="mp4", width=width, height=height, type="video", seed=seed)
    if job.kind == "image-to-image":
        strength = job.params.get("strength")
        image = local_edit.image_to_image(
            _open(job.image),
            prompt=job.prompt,
            seed=seed,
            strength=local_edit.DEFAULT_STRENGTH if strength is None else float(strength),
            negative_prompt=job.negative_prompt,
        )
    elif job.kind == "inpainting":
        if job.mask is None:
            raise ProviderError("An inpainting job needs a mask")
        image = local_edit.inpaint(
            _open(job.image), _open(job.mask), prompt=job.prompt, seed=seed, negative_prompt=job.negative_prompt
        )
    elif job.kind == "upscale":
        image = local_edit.upscale(_open(job.image), factor=int(job.params.get("upscale_factor") or 2))
    else:
        image = local_renderer.render(
            prompt=job.prompt,
            seed=seed,
            width=job.width,
            height=job.height,
            negative_prompt=job.negative_prompt,
            frame=frame,
        )
    for params, scale in adapters:
        image = style_adapter.apply(image, params, scale=scale)
    data = local_renderer.encode(image, fmt=job.output_format, quality=job.params.get("output_compression"))
    return ProviderOutput(data=data, format=job.output_format, width=image.width, height=image.height, seed=seed)


def _image_seed(seed: int, index: int) -> int:
    # Image i of a batch uses seed + i, as diffusion front ends do, so any single image of a
    # batch can be reproduced alone with its own seed.
    return (seed + index) % settings.ATELIER_MAX_SEED
