"""OpenAI Images API through the ``openai`` SDK: text to image (``/v1/images/generations``),
inpainting (``/v1/images/edits`` with image and mask) and variations (``/v1/images/variations``,
DALL·E 2). The endpoint follows the catalog model's kind; image-to-image on GPT Image is an edit
without a mask.

GPT Image is passed the request's ``background`` (``transparent`` needs PNG or WebP) and
``output_compression`` (JPEG and WebP); a DALL·E PNG re-encoded here takes the compression as
its quality. DALL·E 3 makes one image per call, so a batch is one call per image; DALL·E 2 and
GPT Image take ``n``. DALL·E models are asked for ``b64_json``; GPT Image always answers base64. A URL
answer is still accepted and downloaded with a size cap and a content-type check.

OpenAI accepts only a few fixed sizes per model: the requested size snaps to the nearest
allowed one (closest aspect ratio, then closest area) and a log line on the generation says so.
The stored image carries the size OpenAI actually drew.

The SDK's own retries are off: the job system retries 429/5xx/timeouts with its backoff.

Previews (PROTOCOLS.md §9). GPT Image can stream: when the job wants previews the call is made
with ``stream=True`` and ``partial_images`` (the request's, 1-3, else 2), and the SDK yields
``image_generation.partial_image`` / ``image_edit.partial_image`` events, each forwarded as a
preview, then one ``*.completed`` event per image carrying the final picture. Without previews
(or with ``partial_images: 0``) the call is the plain one. DALL·E models do not stream.
"""

import base64
import io
import math
import warnings
from functools import partial

from django.conf import settings

from core.errors import ProviderError, ProviderTransient, ValidationFailed
from generation.providers.base import Provider, ProviderJob, ProviderOutput, Reporter, Submission
from generation.providers.client_cache import shared_client
from generation.providers.downloads import read_capped
from generation.providers.outputs import checked_image

SIZES = {
    "dall-e-2": ((256, 256), (512, 512), (1024, 1024)),
    "dall-e-3": ((1024, 1024), (1792, 1024), (1024, 1792)),
    "gpt-image-1": ((1024, 1024), (1536, 1024), (1024, 1536)),
}
# Images per call: DALL·E 3 only ever makes one.
MAX_N = {"dall-e-3": 1}
# Each model's quality words; the others' words are translated, "auto" leaves OpenAI's default.
QUALITY = {
    "dall-e-3": {"standard": "standard", "hd": "hd", "low": "standard", "medium": "standard", "high": "hd"},
    "gpt-image-1": {"low": "low", "medium": "medium", "high": "high", "standard": "medium", "hd": "high"},
}
STYLES = ("vivid", "natural")
# GPT Image's own background and compression (0-100, JPEG and WebP only); DALL·E takes neither,
# and its PNGs are re-encoded here with the compression as their quality.
BACKGROUNDS = ("transparent", "opaque", "auto")
COMPRESSED_FORMATS = ("jpeg", "webp")
# Partial images asked of a streaming GPT Image call when the request does not say (OpenAI takes 0-3).
DEFAULT_PARTIAL_IMAGES = 2
MAX_PARTIAL_IMAGES = 3
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp"}
# The kinds made by ``/v1/images/edits`` (image-to-image on GPT Image is an edit without a mask).
EDIT_KINDS = ("inpainting", "image-to-image")


class OpenAIImagesProvider(Provider):
    name = "openai"
    capabilities = frozenset({"text-to-image", "inpainting", "image-to-image"})

    def is_configured(self) -> bool:
        return bool(settings.OPENAI_API_KEY)

    def warm(self) -> None:
        self.client()

    def client(self):
        """One SDK client per configuration in this process, as OpenAI recommends."""
        from openai import OpenAI

        configuration = (settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, settings.ATELIER_OPENAI_TIMEOUT_SECONDS)
        return shared_client(
            "openai",
            configuration,
            lambda: OpenAI(
                api_key=settings.OPENAI_API_KEY,
                base_url=settings.OPENAI_BASE_URL or None,
                timeout=settings.ATELIER_OPENAI_TIMEOUT_SECONDS,
                max_retries=0,
            ),
        )

    def submit(self, job: ProviderJob, *, reporter: Reporter) -> Submission:
        model = job.upstream_model
        params = job.upstream_params
        size = nearest_size(model, job.width, job.height)
        if size != (job.width, job.height):
            allowed = ", ".join(f"{w}x{h}" for w, h in SIZES.get(model, ()))
            reporter.log(
                f"{model} draws only {allowed}: using {size[0]}x{size[1]} for the requested {job.width}x{job.height}"
            )
        arguments = {"model": model, "prompt": job.prompt, "size": f"{size[0]}x{size[1]}"}
        quality = QUALITY.get(model, {}).get(str(params.get("quality", "")))
        if quality:
            arguments["quality"] = quality
        if model == "dall-e-3" and params.get("style") in STYLES:
            arguments["style"] = params["style"]
        if model.startswith("gpt-image"):
            arguments["output_format"] = job.output_format
            if params.get("background") in BACKGROUNDS:
                arguments["background"] = params["background"]
            if params.get("output_compression") is not None and job.output_format in COMPRESSED_FORMATS:
                arguments["output_compression"] = int(params["output_compression"])
        else:
            arguments["response_format"] = "b64_json"

        client = self.client()
        call, arguments = _endpoint(client, job, arguments)
        partials = partial_images(job)
        if partials:
            return Submission(outputs=_streamed(call, arguments, job=job, partials=partials, reporter=reporter))
        per_call = MAX_N.get(model, 4)
        outputs: list[ProviderOutput] = []
        while len(outputs) < job.num_images:
            n = min(per_call, job.num_images - len(outputs))
            response = _call(call, {**arguments, "n": n})
            items = list(response.data or [])
            if not items:
                raise ProviderError("OpenAI answered without any image")
            for item in items[:n]:
                outputs.append(_output(item, fmt=job.output_format, quality=params.get("output_compression")))
                if item.revised_prompt and len(outputs) == 1:
                    reporter.log(f"OpenAI revised the prompt to: {item.revised_prompt}")
            reporter.progress(round(len(outputs) * 100 / job.num_images))
            reporter.log(f"Received {len(outputs)} of {job.num_images} image(s) from OpenAI")
        return Submission(outputs=outputs)


def streams(upstream_model: str) -> bool:
    """Whether OpenAI streams partial images of this model (GPT Image does, DALL·E does not)."""
    return upstream_model.startswith("gpt-image")


def partial_images(job: ProviderJob) -> int:
    """How many partial images to ask for: 0 (a plain call) unless the job wants previews of a
    model that streams; the request's ``partial_images`` bounded to 1-3, else the default."""
    if not job.previews or not streams(job.upstream_model) or job.kind not in ("text-to-image", *EDIT_KINDS):
        return 0
    asked = job.upstream_params.get("partial_images")
    if asked is None:
        return DEFAULT_PARTIAL_IMAGES
    try:
        return max(0, min(MAX_PARTIAL_IMAGES, int(asked)))
    except (TypeError, ValueError):
        return DEFAULT_PARTIAL_IMAGES


def _streamed(call, arguments: dict, *, job: ProviderJob, partials: int, reporter: Reporter) -> list[ProviderOutput]:
    """One streaming call for the whole batch: each partial image is a preview of the image being
    drawn, each completed event one of the batch's images."""
    outputs: list[ProviderOutput] = []

    def read(stream) -> None:
        for event in stream:
            kind = getattr(event, "type", "")
            if kind.endswith(".partial_image"):
                reporter.preview(_decoded(event.b64_json), step=event.partial_image_index + 1, total_steps=partials)
            elif kind.endswith(".completed") and len(outputs) < job.num_images:
                outputs.append(checked_image(_decoded(event.b64_json), provider="OpenAI", fmt=job.output_format))
                reporter.progress(round(len(outputs) * 100 / job.num_images))
                reporter.log(f"Received {len(outputs)} of {job.num_images} image(s) from OpenAI")

    stream = _call(call, {**arguments, "n": job.num_images, "stream": True, "partial_images": partials})
    _call(read, {"stream": stream})
    if len(outputs) < job.num_images:
        # The stream closed before every image came: a dropped connection, worth another try.
        raise ProviderTransient("OpenAI's image stream ended before the image was done")
    return outputs


def _decoded(b64_json) -> bytes:
    try:
        return base64.b64decode(b64_json or "", validate=True)
    except ValueError as exc:
        raise ProviderError("OpenAI returned an image that is not valid base64") from exc


def nearest_size(model: str, width: int, height: int) -> tuple[int, int]:
    """The allowed size closest in aspect ratio, then in area; the request itself if unknown."""
    allowed = SIZES.get(model)
    if not allowed or (width, height) in allowed:
        return width, height
    ratio = math.log(width / height)
    area = width * height
    return min(allowed, key=lambda s: (round(abs(math.log(s[0] / s[1]) - ratio), 6), abs(s[0] * s[1] - area)))


def _endpoint(client, job: ProviderJob, arguments: dict):
    """The SDK method for the model's kind, and its arguments (files for edits and variations)."""
    if job.kind not in EDIT_KINDS:
        return client.images.generate, arguments
    if job.image is None:
        raise ValidationFailed(details={"image": [f"{job.model_id} needs an input image."]})
    image = ("image.png", job.image, "image/png")
    if job.kind == "image-to-image" and not job.upstream_model.startswith("gpt-image"):
        # Variations take no prompt, quality or style.
        kept = {key: arguments[key] for key in ("model", "size", "response_format") if key in arguments}
        return partial(_variation, client), {**kept, "image": image}
    edit = {**arguments, "image": image}
    edit.pop("style", None)
    if job.kind == "inpainting":
        if job.mask is None:
            raise ValidationFailed(details={"mask": [f"{job.model_id} needs a mask (white = the area to repaint)."]})
        edit["mask"] = ("mask.png", openai_mask(image=job.image, mask=job.mask), "image/png")
    return client.images.edit, edit


def _variation(client, **arguments):
    # The SDK marks the endpoint deprecated (DALL·E 2 is its only model) but OpenAI still serves it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return client.images.create_variation(**arguments)


def openai_mask(*, image: bytes, mask: bytes) -> bytes:
    """Our mask (mode L, white = repaint) as OpenAI wants it: an RGBA PNG of the image whose
    fully transparent pixels are the area to edit. Grey edges count as repaint from half up."""
    from PIL import Image

    picture = Image.open(io.BytesIO(image)).convert("RGBA")
    repaint = Image.open(io.BytesIO(mask)).convert("L")
    if repaint.size != picture.size:
        repaint = repaint.resize(picture.size, Image.Resampling.NEAREST)
    picture.putalpha(repaint.point(lambda value: 0 if value >= 128 else 255))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _call(call, arguments: dict):
    import openai

    try:
        return call(**arguments)
    except openai.APITimeoutError as exc:
        raise ProviderTransient("OpenAI did not answer in time") from exc
    except openai.APIConnectionError as exc:
        raise ProviderTransient("Could not reach OpenAI") from exc
    except openai.APIStatusError as exc:
        raise _mapped(exc) from exc
    except openai.APIResponseValidationError as exc:
        raise ProviderError("OpenAI returned an answer that could not be read") from exc
    except openai.APIError as exc:
        # An ``error`` event in the middle of a stream.
        raise ProviderError(f"OpenAI failed while drawing: {str(exc.message or 'unknown error')[:500]}") from exc
    except ValueError as exc:
        # A 200 whose body is not JSON.
        raise ProviderError("OpenAI returned an answer that could not be read") from exc


def _mapped(exc) -> Exception:
    status = exc.status_code
    code = getattr(exc, "code", None) or ""
    reason = _reason(exc)
    if status in (401, 403):
        return ProviderError("The provider rejected our credentials")
    if status == 429:
        if code == "insufficient_quota":
            return ProviderError(f"OpenAI quota exhausted: {reason}")
        return ProviderTransient("OpenAI rate limit reached")
    if status >= 500 or status in (408, 409):
        return ProviderTransient(f"OpenAI is unavailable (HTTP {status})")
    if status == 400 and code == "content_policy_violation":
        return ValidationFailed(f"OpenAI refused the prompt: {reason}")
    if status in (400, 422):
        return ValidationFailed(f"OpenAI refused the request: {reason}")
    return ProviderError(f"OpenAI failed the request (HTTP {status}): {reason}")


def _reason(exc) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message:
        message = "invalid request"
    return message[:500]


def _output(item, *, fmt: str, quality: int | None = None) -> ProviderOutput:
    if item.b64_json:
        try:
            data = base64.b64decode(item.b64_json, validate=True)
        except ValueError as exc:
            raise ProviderError("OpenAI returned an image that is not valid base64") from exc
    elif item.url:
        data = _download(item.url)
    else:
        raise ProviderError("OpenAI answered without image data")
    return checked_image(data, provider="OpenAI", fmt=fmt, revised_prompt=item.revised_prompt or "", quality=quality)


def _download(url: str) -> bytes:
    import httpx2

    limit = settings.ATELIER_OPENAI_MAX_DOWNLOAD_BYTES
    try:
        with httpx2.stream("GET", url, timeout=settings.ATELIER_OPENAI_TIMEOUT_SECONDS) as response:
            if response.status_code >= 500:
                raise ProviderTransient(f"OpenAI's image download failed (HTTP {response.status_code})")
            if response.status_code != 200:
                raise ProviderError(f"OpenAI's image URL answered HTTP {response.status_code}")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in IMAGE_TYPES:
                raise ProviderError(f"OpenAI's image URL did not return an image ({content_type or 'no type'})")
            return read_capped(response, limit=limit, too_large="OpenAI's image is larger than allowed")
    except httpx2.TimeoutException as exc:
        raise ProviderTransient("OpenAI's image download timed out") from exc
    except httpx2.TransportError as exc:
        raise ProviderTransient("Could not download OpenAI's image") from exc
