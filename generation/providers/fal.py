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
"""

import re

from django.conf import settings

from core.errors import ApplicationError, ProviderError, ValidationFailed
from generation.providers import fal_arguments
from generation.providers.base import Provider, ProviderJob, ProviderOutput, Reporter, Submission
from generation.providers.clients.fal import (
    COMPLETED,
    IN_PROGRESS,
    QUEUED,
    fal_call,
    fal_cancel,
    fal_handle,
    fal_sdk_client,
    fal_state,
    fal_validation_error,
    request_id_of,
)
from generation.providers.downloads import download_client
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
