"""fal.ai through the official ``fal-client`` SDK: queue submit, status with logs, result, cancel.

A job is submitted to the queue (never the blocking run endpoint) and the worker returns at
once; scheduled polls (and fal's webhook, when PUBLIC_BASE_URL is set) follow it from there.
The job's reference kept on the generation is the ``response_url`` fal answered with: fal
says to use the URLs it returns rather than to build them, and it carries the app path that
status, result and cancel need.

fal-client is driven through its public surface only, by way of
generation/providers/clients/fal.py, which training's fal adapter shares: the SDK client, the
handle the SDK builds for a request (``SyncClient.get_handle``, on the host the SDK is
configured for, so our key never follows a URL an answer names), the call wrapper that turns
the SDK's errors into ours, and cancel.

Input images we hold are sent as data URIs: the SDK's upload host cannot be redirected, and
fal accepts data URIs wherever it takes a file URL.

Previews (PROTOCOLS.md §9). A model whose catalog defaults say ``"stream": true`` has an app
with a ``/stream`` endpoint: when the job wants previews it is called there (the SDK's
``stream``) instead of through the queue, and the worker follows it to the end. Every event is
the app's output so far; the last one is the result, each one before it an intermediate frame
whose first image (a data URI or a URL) becomes a preview, with its ``step``/``total_steps``
when the app says. A ``/stream`` call fal answers without an event stream (an error status, or
an app that does not stream after all) falls back to the queue, whose answers say what is
wrong. A streamed job has no queue request id, so fal cannot be asked to cancel it.
"""

import re

from django.conf import settings

from core.errors import ApplicationError, ProviderError, ProviderTransient, ValidationFailed
from generation.providers import fal_arguments
from generation.providers.base import Provider, ProviderJob, ProviderOutput, Reporter, Submission
from generation.providers.clients.fal import (
    COMPLETED,
    IN_PROGRESS,
    QUEUED,
    StreamRefused,
    fal_call,
    fal_cancel,
    fal_handle,
    fal_sdk_client,
    fal_state,
    fal_stream,
    fal_validation_error,
    request_id_of,
)
from generation.providers.downloads import IMAGE_TYPES, download_client, download_output
from generation.providers.lookups import poll_after, unseen
from generation.providers.outputs import image_output, video_output
from generation.webhooks.addresses import provider_webhook_url

# How long the count of log lines already recorded for a job is remembered.
LOG_CURSOR_SECONDS = 24 * 3600
_PROGRESS = (re.compile(r"(\d+)\s*/\s*(\d+)"), re.compile(r"(\d{1,3})\s*%"))


class FalProvider(Provider):
    name = "fal"
    capabilities = frozenset({"text-to-image", "image-to-image", "inpainting", "image-to-video", "upscale"})

    def warm(self) -> None:
        fal_sdk_client()
        download_client()

    def is_configured(self) -> bool:
        return bool(settings.FAL_KEY)

    def submit(self, job: ProviderJob, *, reporter: Reporter) -> Submission:
        params = job.upstream_params
        arguments = fal_arguments.build(job, params=params)
        if job.previews and params.get("stream") is True:
            try:
                return _streamed(job, arguments, reporter=reporter)
            except StreamRefused:
                reporter.log("fal's streaming endpoint did not stream; queueing the request instead")
        webhook = provider_webhook_url(provider=self.name, generation_id=job.generation_id)
        client = fal_sdk_client()
        handle = fal_call(lambda: client.submit(job.upstream_model, arguments, webhook_url=webhook))
        if not isinstance(handle.request_id, str) or not handle.request_id or "/" in handle.request_id:
            raise ProviderError("fal returned an answer that could not be read")
        # The SDK's own handle for the request, on the queue host it is configured for (the URLs
        # the answer names are not followed: our key only ever goes to that host).
        reference = fal_call(lambda: client.get_handle(job.upstream_model, handle.request_id).response_url)
        reporter.log(f"Queued on fal as request {handle.request_id}" + (" (webhook requested)" if webhook else ""))
        return Submission(request_id=reference, poll_after=poll_after())

    def poll(self, request_id: str, *, job: ProviderJob, reporter: Reporter) -> Submission:
        handle = fal_handle(request_id)
        status = fal_call(lambda: handle.status(with_logs=True))
        state = fal_state(status)
        if state == QUEUED:
            reporter.queue_position(status.position)
            return Submission(request_id=request_id, poll_after=poll_after())
        reporter.queue_position(None)
        _record_logs(request_id, status.logs, reporter=reporter)
        if state == IN_PROGRESS:
            return Submission(request_id=request_id, poll_after=poll_after())
        if state != COMPLETED:
            raise ProviderError("fal returned an answer that could not be read")
        if status.error:
            raise _failed_run(status.error, status.error_type)
        result = fal_call(handle.get)
        return Submission(outputs=outputs_from_result(result, fmt=job.output_format))

    def webhook_update(self, payload: dict, *, request_id: str, job: ProviderJob, reporter: Reporter) -> Submission:
        """What a verified webhook says: finished outputs, or an error raised as ours."""
        status = payload.get("status")
        if status == "ERROR":
            detail = payload.get("payload")
            if isinstance(detail, dict) and "detail" in detail:
                raise fal_validation_error(detail["detail"])
            raise ProviderError(f"fal failed the request: {str(payload.get('error') or 'unknown error')[:500]}")
        if status != "OK":
            raise ProviderError("fal sent a webhook that could not be read")
        result = payload.get("payload")
        if result is None:
            # fal could not put the output in the webhook (payload_error): read it from the queue.
            return self.poll(request_id, job=job, reporter=reporter)
        if not isinstance(result, dict):
            raise ProviderError("fal sent a webhook that could not be read")
        return Submission(outputs=outputs_from_result(result, fmt=job.output_format))

    def cancel(self, request_id: str) -> bool:
        return fal_cancel(request_id)


def _streamed(job: ProviderJob, arguments: dict, *, reporter: Reporter) -> Submission:
    """Follows a call to the app's ``/stream`` endpoint: each event but the last is a frame in
    progress, the last is the result."""
    reporter.log("Streaming from fal")
    previous = None
    for event in fal_stream(job.upstream_model, arguments):
        if previous is not None:
            _preview(previous, reporter=reporter)
        previous = event
    if not isinstance(previous, dict):
        raise ProviderTransient("fal's stream ended without a result")
    return Submission(outputs=outputs_from_result(previous, fmt=job.output_format))


def _preview(event, *, reporter: Reporter) -> None:
    """The first image of an intermediate event as a preview; an event without one shows nothing."""
    if not isinstance(event, dict):
        return
    images = event.get("images")
    image = images[0] if isinstance(images, list) and images else event.get("image")
    url = image.get("url") if isinstance(image, dict) else None
    if not isinstance(url, str):
        return
    try:
        data = download_output(url, provider="fal", accept=IMAGE_TYPES).data
    except (ProviderError, ProviderTransient):
        # A frame we cannot read is skipped: the result still comes.
        return
    step, total = event.get("step"), event.get("total_steps")
    reporter.preview(
        data,
        step=step if isinstance(step, int) else None,
        total_steps=total if isinstance(total, int) else None,
    )


def _failed_run(error: str, error_type: str | None) -> ApplicationError:
    message = str(error)[:500]
    if error_type and "validation" in error_type.lower():
        return ValidationFailed(f"fal refused the input: {message}")
    return ProviderError(f"fal failed the request: {message}")


def _record_logs(request_ref: str, logs, *, reporter: Reporter) -> None:
    """Records the log lines not recorded yet (fal answers all of them each time) and any progress."""
    if not isinstance(logs, list) or not logs:
        return
    fresh = unseen(f"fal:logs:{request_id_of(request_ref)}", logs, keep_seconds=LOG_CURSOR_SECONDS)
    for entry in fresh:
        message = str(entry.get("message", "") if isinstance(entry, dict) else entry).strip()
        if not message:
            continue
        reporter.log(f"fal: {message[:500]}")
        percent = progress_from(message)
        if percent is not None:
            reporter.progress(percent)


def progress_from(message: str) -> int | None:
    """Percent done from a log line such as "step 3/28" or " 45%|####"."""
    for pattern in _PROGRESS:
        match = pattern.search(message)
        if not match:
            continue
        if len(match.groups()) == 2:
            done, total = int(match.group(1)), int(match.group(2))
            if total > 0 and done <= total:
                return done * 100 // total
        else:
            return min(100, int(match.group(1)))
    return None


def outputs_from_result(result: dict, *, fmt: str) -> list[ProviderOutput]:
    """Downloads the outputs a fal result names and checks each one."""
    if not isinstance(result, dict):
        raise ProviderError("fal returned an answer that could not be read")
    seed = result.get("seed") if isinstance(result.get("seed"), int) else None
    video = result.get("video")
    if isinstance(video, dict):
        return [video_output(video.get("url"), provider="fal", seed=seed)]
    images = result.get("images")
    if images is None and isinstance(result.get("image"), dict):
        # Single-image endpoints (upscalers) answer {"image": File}.
        images = [result["image"]]
    if not isinstance(images, list) or not images or not all(isinstance(item, dict) for item in images):
        raise ProviderError("fal answered without any image")
    flags = result.get("has_nsfw_concepts")
    flags = flags if isinstance(flags, list) else []
    outputs = []
    for index, image in enumerate(images):
        nsfw = bool(flags[index]) if index < len(flags) else False
        outputs.append(image_output(image.get("url"), provider="fal", fmt=fmt, seed=seed, nsfw=nsfw))
    return outputs
