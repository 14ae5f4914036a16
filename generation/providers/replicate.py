"""Replicate predictions through the official ``replicate`` SDK: create, get, cancel.

A prediction is created by model (``owner/name``, the official-model route) or by version
(``owner/name:<id>`` or a bare 64-hex version id), with our webhook when PUBLIC_BASE_URL is set
(events start, logs and completed); scheduled polls follow it either way. Statuses map as
starting → waiting, processing → progress from the logs when the model prints a progress bar,
succeeded → outputs downloaded into our storage, failed/canceled → failed with a refund.

The SDK client, its call wrapper and cancel are generation/providers/clients/replicate.py's,
shared with training's Replicate adapter.

Previews (PROTOCOLS.md §9). A model whose catalog defaults say ``"stream": true`` yields its
output as an iterator: intermediate frames, then the final image(s). When the job wants
previews its prediction is created with ``stream: true`` (and the webhook's ``output`` event),
and the creating worker follows the prediction's event stream (the SDK's ``stream``) for at
most ATELIER_REPLICATE_STREAM_SECONDS, each ``output`` event (an https or data URI) becoming a
preview; at ``done`` the prediction is read and finished inline, otherwise polls and the webhook
take over, previewing the newest output the prediction lists while it runs. The outputs kept
of such a model are its last ``num_outputs`` ones.
"""

import re
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import ProviderError, ProviderTransient
from generation.providers.base import Provider, ProviderJob, ProviderOutput, Reporter, Submission
from generation.providers.clients.replicate import (
    prediction_cancel,
    prediction_events,
    replicate_call,
    replicate_progress,
    replicate_sdk_client,
)
from generation.providers.downloads import IMAGE_TYPES, download_client, download_output
from generation.providers.fal_arguments import data_uri, nearest_ratio
from generation.providers.lookups import poll_after, unseen
from generation.providers.outputs import image_output
from generation.webhooks.addresses import provider_webhook_url

VERSION_ID = re.compile(r"^[0-9a-f]{64}$")
LOG_CURSOR_SECONDS = 24 * 3600
WEBHOOK_EVENTS = ["start", "logs", "completed"]
# Models that are sized by aspect ratio, and the ratios they take.
ASPECT_RATIOS = {
    "black-forest-labs/flux-schnell": ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"),
    "black-forest-labs/flux-dev": ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"),
}
# Our parameter names → Replicate's usual input names.
RENAMED = {
    "guidance_scale": "guidance_scale",
    "num_inference_steps": "num_inference_steps",
    "strength": "prompt_strength",
    "controlnet_conditioning_scale": "controlnet_conditioning_scale",
}
REPLICATE_FORMATS = {"png": "png", "jpeg": "jpg", "webp": "webp"}


def fetch_signing_secret() -> str:
    """The account's webhook signing secret (``whsec_…``), from Replicate's API."""
    secret = replicate_call(lambda: replicate_sdk_client().webhooks.default.secret())
    key = getattr(secret, "key", None)
    if not isinstance(key, str) or not key.startswith("whsec_"):
        raise ProviderError("Replicate returned an answer that could not be read")
    return key


class ReplicateProvider(Provider):
    name = "replicate"
    capabilities = frozenset({"text-to-image", "image-to-image", "inpainting"})

    def warm(self) -> None:
        replicate_sdk_client()
        download_client()

    def is_configured(self) -> bool:
        return bool(settings.REPLICATE_API_TOKEN)

    def submit(self, job: ProviderJob, *, reporter: Reporter) -> Submission:
        params = job.upstream_params
        arguments: dict = {"input": build_input(job, params=params)}
        streaming = _previewed(job)
        webhook = provider_webhook_url(provider=self.name, generation_id=job.generation_id)
        if webhook:
            arguments["webhook"] = webhook
            arguments["webhook_events_filter"] = [*WEBHOOK_EVENTS, "output"] if streaming else WEBHOOK_EVENTS
        if streaming:
            arguments["stream"] = True
        model = job.upstream_model
        if VERSION_ID.match(model):
            arguments["version"] = model
        elif ":" in model:
            arguments["version"] = model.split(":", 1)[1]
        else:
            arguments["model"] = model
        prediction = replicate_call(lambda: replicate_sdk_client().predictions.create(**arguments))
        if not isinstance(prediction.id, str) or not prediction.id:
            raise ProviderError("Replicate returned an answer that could not be read")
        reporter.log(f"Created Replicate prediction {prediction.id}" + (" (webhook requested)" if webhook else ""))
        if streaming and _followable((prediction.urls or {}).get("stream")):
            reporter.request_id(prediction.id)
            _follow_stream(prediction, reporter=reporter)
            # Done, failed, or still running when the window closed: the prediction says which.
            try:
                latest = replicate_call(lambda: replicate_sdk_client().predictions.get(prediction.id))
                return self._follow(_as_dict(latest), request_id=prediction.id, job=job, reporter=reporter)
            except ProviderTransient as exc:
                # The prediction exists: polls follow it from here. Letting the error through
                # would have the job system create it a second time.
                reporter.log(f"{exc.message}; following the prediction by polling")
        # Followed from here by polls and the webhook, which know the generation's format.
        return Submission(request_id=prediction.id, poll_after=poll_after())

    def poll(self, request_id: str, *, job: ProviderJob, reporter: Reporter) -> Submission:
        prediction = replicate_call(lambda: replicate_sdk_client().predictions.get(request_id))
        return self._follow(_as_dict(prediction), request_id=request_id, job=job, reporter=reporter)

    def webhook_update(self, payload: dict, *, request_id: str, job: ProviderJob, reporter: Reporter) -> Submission:
        return self._follow(payload, request_id=request_id, job=job, reporter=reporter)

    def cancel(self, request_id: str) -> bool:
        return prediction_cancel(request_id)

    def _follow(self, prediction: dict, *, request_id: str, job: ProviderJob, reporter: Reporter) -> Submission:
        status = prediction.get("status")
        if status not in ("starting", "processing", "succeeded", "failed", "canceled"):
            raise ProviderError("Replicate returned an answer that could not be read")
        _record_logs(request_id, prediction.get("logs"), reporter=reporter)
        if status in ("starting", "processing"):
            if _previewed(job):
                _preview_newest(request_id, prediction.get("output"), reporter=reporter)
            return Submission(request_id=request_id, poll_after=poll_after())
        if status == "failed":
            raise ProviderError(f"Replicate failed the prediction: {str(prediction.get('error') or 'unknown')[:500]}")
        if status == "canceled":
            raise ProviderError("The prediction was cancelled at Replicate")
        output = prediction.get("output")
        if _streams(job) and isinstance(output, list):
            # An iterator model lists its frames before its final image(s).
            output = output[-job.num_images :]
        return Submission(outputs=_outputs(output, fmt=job.output_format))


def _streams(job: ProviderJob) -> bool:
    """Whether the model yields its output as an iterator, frames first (its catalog defaults say)."""
    return job.upstream_params.get("stream") is True


def _previewed(job: ProviderJob) -> bool:
    return job.previews and _streams(job)


def _followable(url) -> bool:
    """Whether the SDK may follow a stream URL the answer names (it sends our token there): an
    https one, or one on the host the client is configured for."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    configured = urlsplit(settings.REPLICATE_BASE_URL)
    return parts.scheme == "https" or (parts.scheme, parts.netloc) == (configured.scheme, configured.netloc)


def _follow_stream(prediction, *, reporter: Reporter) -> None:
    """Previews each ``output`` event of the prediction's stream until ``done`` or the window closes."""
    seconds = settings.ATELIER_REPLICATE_STREAM_SECONDS
    step = 0
    if seconds > 0:
        for event, data in prediction_events(prediction, seconds=seconds):
            if event == "done":
                break
            if event == "output":
                step += 1
                _preview(data, step=step, reporter=reporter)
    # The polls that follow preview only frames listed after those seen here.
    unseen(_frames_key(prediction.id), [None] * step, keep_seconds=LOG_CURSOR_SECONDS)


def _preview(url, *, step: int | None, reporter: Reporter) -> None:
    if not isinstance(url, str):
        return
    try:
        data = download_output(url, provider="Replicate", accept=IMAGE_TYPES).data
    except (ProviderError, ProviderTransient):
        # A frame we cannot read is skipped: the result still comes.
        return
    reporter.preview(data, step=step)


def _preview_newest(request_id: str, output, *, reporter: Reporter) -> None:
    """The newest frame a running iterator model lists, once (polls and webhooks resend them all)."""
    if not isinstance(output, list) or not output:
        return
    if unseen(_frames_key(request_id), output, keep_seconds=LOG_CURSOR_SECONDS):
        _preview(output[-1], step=len(output), reporter=reporter)


def _frames_key(request_id: str) -> str:
    return f"replicate:frames:{request_id}"


def build_input(job: ProviderJob, *, params: dict) -> dict:
    """The model input under Replicate's usual names (FLUX and SDXL style models)."""
    values: dict = {"prompt": job.prompt, "seed": job.seed, "num_outputs": job.num_images}
    if job.negative_prompt:
        values["negative_prompt"] = job.negative_prompt
    ratios = ASPECT_RATIOS.get(job.upstream_model)
    if ratios:
        values["aspect_ratio"] = nearest_ratio(job.width, job.height, ratios)
        values["output_format"] = REPLICATE_FORMATS.get(job.output_format, "png")
    else:
        values["width"], values["height"] = job.width, job.height
    for ours, theirs in RENAMED.items():
        if params.get(ours) is not None:
            values[theirs] = params[ours]
    if params.get("enable_safety_checker") is not None:
        values["disable_safety_checker"] = not params["enable_safety_checker"]
    if job.image is not None:
        values["image"] = data_uri(job.image)
    if job.mask is not None:
        values["mask"] = data_uri(job.mask)
    return values


def _as_dict(prediction) -> dict:
    return {
        "id": prediction.id,
        "status": prediction.status,
        "logs": prediction.logs,
        "output": prediction.output,
        "error": prediction.error,
    }


def _record_logs(request_id: str, logs, *, reporter: Reporter) -> None:
    """Records log lines not recorded yet (Replicate sends all of them each time) and the progress bar."""
    if not isinstance(logs, str) or not logs.strip():
        return
    lines = [line for line in logs.replace("\r", "\n").split("\n") if line.strip()]
    fresh = unseen(f"replicate:logs:{request_id}", lines, keep_seconds=LOG_CURSOR_SECONDS)
    if not fresh:
        return
    for line in fresh[-20:]:
        reporter.log(f"replicate: {line.strip()[:500]}")
    percent = replicate_progress(logs)
    if percent is not None:
        reporter.progress(percent)


def _outputs(output, *, fmt: str) -> list[ProviderOutput]:
    urls = [output] if isinstance(output, str) else output
    if not isinstance(urls, list) or not urls or not all(isinstance(url, str) for url in urls):
        raise ProviderError("Replicate answered without any image")
    return [image_output(url, provider="Replicate", fmt=fmt) for url in urls]
