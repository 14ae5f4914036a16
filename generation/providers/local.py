"""The offline ``local`` provider: a deterministic procedural renderer, not an AI model.

It always works, needs no key and no network, and gives the same pixels for the same
prompt, seed and size, which makes it the default of the embedded run and of the tests.
"""

from django.conf import settings

from generation.providers import local_renderer
from generation.providers.base import Provider, ProviderJob, ProviderOutput, Reporter, Submission


class LocalProvider(Provider):
    name = "local"
    capabilities = frozenset({"text-to-image"})

    def is_configured(self) -> bool:
        return True

    def submit(self, job: ProviderJob, *, reporter: Reporter) -> Submission:
        outputs = []
        for index in range(job.num_images):
            seed = _image_seed(job.seed, index)
            image = local_renderer.render(
                prompt=job.prompt,
                seed=seed,
                width=job.width,
                height=job.height,
                negative_prompt=job.negative_prompt,
            )
            data = local_renderer.encode(image, fmt=job.output_format)
            outputs.append(
                ProviderOutput(data=data, format=job.output_format, width=job.width, height=job.height, seed=seed)
            )
            reporter.step(round((index + 1) * 100 / job.num_images), f"Rendered image {index + 1} of {job.num_images}")
        return Submission(outputs=outputs)


def _image_seed(seed: int, index: int) -> int:
    # Image i of a batch uses seed + i, as diffusion front ends do, so any single image of a
    # batch can be reproduced alone with its own seed.
    return (seed + index) % settings.ATELIER_MAX_SEED
