"""Hugging Face Inference text-to-image through ``huggingface_hub.InferenceClient``.

The client is always given a URL (never a bare model id), so it makes no Hub look-ups and
POSTs to exactly that URL: ``{HF_BASE_URL}/models/{upstream model}`` when the override is
set, else the Inference Providers router's ``hf-inference`` route for the model. Each call
returns one image, so a batch is one call per image with seed + i.

A cold model answers 503 with ``estimated_time``: the job waits that long (bounded by
ATELIER_HF_LOADING_WAIT_SECONDS from the first attempt) and asks again, then gives up with
"GPU resources busy".
"""

import json
import time

from django.conf import settings

from core.errors import ProviderError, ProviderTransient, ProviderUnavailable, ValidationFailed
from generation.providers import local_renderer
from generation.providers.base import Provider, ProviderJob, ProviderOutput, Reporter, Submission

ROUTER_URL = "https://router.huggingface.co/hf-inference/models/{model}"
# Decoded images above this many pixels are refused (a sane bound for 1-2 megapixel models).
MAX_PIXELS = 4096 * 4096


class HuggingFaceProvider(Provider):
    name = "huggingface"
    capabilities = frozenset({"text-to-image"})

    def is_configured(self) -> bool:
        return bool(settings.HF_TOKEN)

    def warm(self) -> None:
        import huggingface_hub  # noqa: F401 - loaded once, before the pool forks

    def model_url(self, upstream_model: str) -> str:
        base = settings.HF_BASE_URL.rstrip("/")
        if base:
            return f"{base}/models/{upstream_model}"
        return ROUTER_URL.format(model=upstream_model)

    def submit(self, job: ProviderJob, *, reporter: Reporter) -> Submission:
        from huggingface_hub import InferenceClient

        client = InferenceClient(
            base_url=self.model_url(job.upstream_model),
            token=settings.HF_TOKEN,
            timeout=settings.ATELIER_HF_TIMEOUT_SECONDS,
        )
        deadline = time.monotonic() + settings.ATELIER_HF_LOADING_WAIT_SECONDS
        params = job.upstream_params
        outputs = []
        for index in range(job.num_images):
            seed = (job.seed + index) % settings.ATELIER_MAX_SEED
            image = self._one_image(client, job=job, params=params, seed=seed, deadline=deadline, reporter=reporter)
            outputs.append(
                _output(image, fmt=job.output_format, seed=seed, quality=job.params.get("output_compression"))
            )
            reporter.progress(round((index + 1) * 100 / job.num_images))
            reporter.log(f"Received image {index + 1} of {job.num_images} from Hugging Face")
        return Submission(outputs=outputs)

    def _one_image(self, client, *, job: ProviderJob, params: dict, seed: int, deadline: float, reporter: Reporter):
        import httpx2
        from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError
        from PIL import UnidentifiedImageError

        while True:
            try:
                return client.text_to_image(
                    job.prompt,
                    negative_prompt=job.negative_prompt or None,
                    width=job.width,
                    height=job.height,
                    num_inference_steps=params.get("num_inference_steps"),
                    guidance_scale=params.get("guidance_scale"),
                    seed=seed,
                )
            except InferenceTimeoutError as exc:
                raise ProviderTransient("Hugging Face did not answer in time") from exc
            except HfHubHTTPError as exc:
                wait = _loading_wait(exc)
                if wait is None:
                    raise _mapped(exc) from exc
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ProviderUnavailable(
                        "GPU resources busy: the model is still loading on Hugging Face, please try again later"
                    ) from exc
                pause = max(0.0, min(wait, remaining))
                reporter.log(f"Model is loading on Hugging Face; waiting {pause:.1f} s")
                time.sleep(pause)
            except (UnidentifiedImageError, ValueError) as exc:
                # A 200 whose body is not an image Pillow can read.
                raise ProviderError("Hugging Face returned something that is not an image") from exc
            except httpx2.TransportError as exc:
                # Connection refused or reset: the network or the endpoint is down for now.
                raise ProviderTransient("Could not reach Hugging Face") from exc


def _body(exc) -> dict:
    response = getattr(exc, "response", None)
    if response is None:
        return {}
    try:
        body = json.loads(response.content or b"{}")
    except (ValueError, RuntimeError):
        return {}
    return body if isinstance(body, dict) else {}


def _status(exc) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _loading_wait(exc) -> float | None:
    """Seconds to wait when the answer is the "model is loading" 503, else None."""
    if _status(exc) != 503:
        return None
    estimated = _body(exc).get("estimated_time")
    if isinstance(estimated, int | float) and not isinstance(estimated, bool) and estimated >= 0:
        return float(estimated)
    return None


def _message(exc) -> str:
    error = _body(exc).get("error")
    if isinstance(error, list):
        error = "; ".join(str(item) for item in error)
    return str(error)[:500] if error else ""


def _mapped(exc) -> Exception:
    status = _status(exc)
    reason = _message(exc)
    if status in (401, 403):
        return ProviderError("The provider rejected our credentials")
    if status == 429:
        return ProviderTransient("Hugging Face rate limit reached")
    if status is None or status >= 500:
        return ProviderTransient(f"Hugging Face is unavailable (HTTP {status})")
    if status in (400, 422):
        return ValidationFailed(f"Hugging Face refused the request: {reason or 'invalid input'}")
    return ProviderError(f"Hugging Face failed the request (HTTP {status}){': ' + reason if reason else ''}")


def _output(image, *, fmt: str, seed: int, quality: int | None = None) -> ProviderOutput:

    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ProviderError(f"Hugging Face returned an image of {width}x{height}, larger than allowed")
    # Re-encoded in the requested format, without the upstream metadata.
    data = local_renderer.encode(image, fmt=fmt, quality=quality)
    return ProviderOutput(data=data, format=fmt, width=width, height=height, seed=seed)
