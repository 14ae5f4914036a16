"""The interface every provider adapter implements (DESIGN.md §3)."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Workflow:
    """A ComfyUI workflow template as plain data: its API-format graph, and each slot's node
    input (slot name → (node id, input name)) with the type the slot's value is given as."""

    name: str
    graph: dict
    slots: dict
    slot_types: dict


@dataclass(frozen=True)
class ProviderJob:
    """What a provider needs to know about one generation, independent of Django models."""

    generation_id: str
    model_id: str
    upstream_model: str
    kind: str
    prompt: str
    negative_prompt: str
    width: int
    height: int
    num_images: int
    seed: int
    output_format: str
    params: dict = field(default_factory=dict)
    # Input images, normalised to PNG bytes by the input pipeline: the reference image of
    # image-to-image, inpainting, image-to-video and upscale, and the inpainting mask (mode L,
    # same size as the image; white = repaint). None when the model's kind takes none.
    image: bytes | None = None
    mask: bytes | None = None
    # The model's default upstream parameters from the catalog; the request's own params override them.
    defaults: dict = field(default_factory=dict)
    # What only some providers use, resolved by the job system for those that ask (Provider.needs):
    # the ComfyUI workflow template, and the trained style adapters (local LoRAs) with their scales.
    workflow: Workflow | None = None
    style_adapters: tuple = ()
    # Whether the generation's watchers want in-progress pictures (the request's ``previews``).
    # A provider that can stream intermediate frames asks for them only when this is True.
    previews: bool = True

    @property
    def upstream_params(self) -> dict:
        return {**self.defaults, **self.params}


@dataclass(frozen=True)
class ProviderOutput:
    data: bytes
    format: str
    width: int
    height: int
    type: str = "image"
    seed: int | None = None
    # The prompt the provider says it actually drew (DALL·E 3 rewrites prompts).
    revised_prompt: str = ""
    # The provider's safety checker flagged it (fal's has_nsfw_concepts): hidden from public views.
    nsfw: bool = False


@dataclass(frozen=True)
class Submission:
    """A provider's answer to submit: finished outputs, or the id of a job it queued."""

    outputs: list[ProviderOutput] | None = None
    request_id: str = ""
    # Seconds before the next poll at the earliest: a provider that will call our webhook asks
    # to be polled rarely, as a fallback only.
    poll_after: float = 0.0

    @property
    def finished(self) -> bool:
        return self.outputs is not None


@dataclass
class Reporter:
    """Lets a provider record progress and log lines on the generation while it works."""

    on_progress: Callable[[int], None]
    on_log: Callable[[str], None]
    on_queue_position: Callable[[int | None], None] | None = None
    on_step: Callable[[int, str], None] | None = None
    on_request_id: Callable[[str], None] | None = None
    on_preview: Callable[..., None] | None = None

    def progress(self, percent: int) -> None:
        self.on_progress(max(0, min(100, int(percent))))

    def queue_position(self, position: int | None) -> None:
        """Jobs ahead of this one in the provider's own queue; None once it has started."""
        if self.on_queue_position is not None:
            self.on_queue_position(None if position is None else max(0, int(position)))

    def log(self, message: str) -> None:
        self.on_log(message)

    def request_id(self, request_id: str) -> None:
        """Records the provider's id for the job before submit returns, so that a cancel made
        while the provider still follows the job can reach it."""
        if self.on_request_id is not None:
            self.on_request_id(request_id)

    def preview(self, image, *, step: int | None = None, total_steps: int | None = None) -> None:
        """An in-progress picture of the job: encoded image bytes (PNG, JPEG or WebP) or a
        Pillow image, with the step it shows where the provider says. The job system scales,
        throttles and publishes it; it is never stored as an asset nor billed."""
        if self.on_preview is not None:
            self.on_preview(image, step=step, total_steps=total_steps)

    def step(self, percent: int, message: str) -> None:
        """Progress with the log line that explains it, recorded together."""
        if self.on_step is None:
            self.progress(percent)
            self.log(message)
        else:
            self.on_step(max(0, min(100, int(percent))), message)


class Provider:
    name: str = ""
    capabilities: frozenset[str] = frozenset()
    # What the job system resolves into the job for this provider beyond the generation's own
    # fields: "workflow" (ComfyUI's template), "style_adapters" (the local LoRAs).
    needs: frozenset[str] = frozenset()

    def is_configured(self) -> bool:
        raise NotImplementedError

    def warm(self) -> None:
        """Loads, before any job, what this provider's first job would (its SDK, its client).

        A worker calls it once in its main process, before it forks its pool: the pool
        processes then share what was loaded instead of each loading it during its first job.
        """

    def submit(self, job: ProviderJob, *, reporter: Reporter) -> Submission:
        raise NotImplementedError

    def poll(self, request_id: str, *, job: ProviderJob, reporter: Reporter) -> Submission:
        """Asks a queued job how it is doing; ``finished`` when its outputs are ready."""
        raise NotImplementedError(f"{self.name} answers inline and has nothing to poll")

    def cancel(self, request_id: str) -> bool:
        """Asks the provider to stop a job; False when it has no way to."""
        return False
