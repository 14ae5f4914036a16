"""fal.ai through the official ``fal-client`` SDK: queue submit, status with logs, result, cancel.

A job is submitted to the queue (never the blocking run endpoint) and the worker returns at
once; scheduled polls (and fal's webhook, when PUBLIC_BASE_URL is set) follow it from there.
The job's reference kept on the generation is the ``response_url`` fal answered with: fal
says to use the URLs it returns rather than to build them, and it carries the app path that
status, result and cancel need.

fal-client is driven through its public surface only. It reads its hosts from the
environment (``FAL_RUN_HOST``, ``FAL_QUEUE_RUN_HOST``) when it is first imported and always
speaks HTTPS; the tests point it at their fake that way. Status, result and cancel go through
the handle the SDK builds for a request (``SyncClient.get_handle``), on the host the SDK is
configured for, so our key never follows a URL an answer names. The SDK retries what it
deems transient itself (429, 408, 409, timeouts, connection errors, with backoff); what is
still failing after that comes back here as ProviderTransient and the job system retries it.

Input images we hold are sent as data URIs: the SDK's upload host cannot be redirected, and
fal accepts data URIs wherever it takes a file URL.
"""

import logging
import re
from urllib.parse import urlsplit

from django.conf import settings

from generation.providers import fal_arguments
from generation.providers.base import Provider, ProviderJob, ProviderOutput, Reporter, Submission
from generation.providers.client_cache import shared_client
from generation.providers.downloads import download_client
from generation.providers.lookups import poll_after, unseen
from generation.providers.outputs import image_output, video_output
from ops.errors import ApplicationError, ProviderError, ProviderTransient, ValidationFailed

logger = logging.getLogger(__name__)

# How long the count of log lines already recorded for a job is remembered.
LOG_CURSOR_SECONDS = 24 * 3600
_PROGRESS = (re.compile(r"(\d+)\s*/\s*(\d+)"), re.compile(r"(\d{1,3})\s*%"))


def fal_sdk_client():
    """One SDK client (and its connection pool) per configuration, shared by the worker's threads."""
    import fal_client

    key, timeout = settings.FAL_KEY, settings.ATELIER_FAL_TIMEOUT_SECONDS
    return shared_client("fal", (key, timeout), lambda: fal_client.SyncClient(key=key, default_timeout=timeout))


def fal_handle(request_ref: str):
    """The SDK's handle for a job, from the reference kept at submit: its ``response_url``,
    ``https://<queue host>/<app>/requests/<id>``, whose app path status, result and cancel need."""
    application = urlsplit(request_ref).path.strip("/").partition("/requests/")[0]
    return fal_sdk_client().get_handle(application, request_id_of(request_ref))


def request_id_of(request_ref: str) -> str:
    return request_ref.rstrip("/").rsplit("/", 1)[-1]


class FalProvider(Provider):
    name = "fal"
    capabilities = frozenset({"text-to-image", "image-to-image", "inpainting", "image-to-video", "upscale"})

    def warm(self) -> None:
        fal_sdk_client()
        download_client()

    def is_configured(self) -> bool:
        return bool(settings.FAL_KEY)

    def submit(self, job: ProviderJob, *, reporter: Reporter) -> Submission:
        from generation.webhooks.addresses import provider_webhook_url

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
        from fal_client import Completed, InProgress, Queued

        handle = fal_handle(request_id)
        status = fal_call(lambda: handle.status(with_logs=True))
        if isinstance(status, Queued):
            reporter.queue_position(status.position)
            return Submission(request_id=request_id, poll_after=poll_after())
        reporter.queue_position(None)
        _record_logs(request_id, status.logs, reporter=reporter)
        if isinstance(status, InProgress):
            return Submission(request_id=request_id, poll_after=poll_after())
        if not isinstance(status, Completed):
            raise ProviderError("fal returned an answer that could not be read")
        if status.error:
            raise _failed_run(status.error, status.error_type)
        result = fal_call(handle.get)
        return Submission(
            outputs=outputs_from_result(result, fmt=job.output_format)
        )

    def webhook_update(self, payload: dict, *, request_id: str, job: ProviderJob, reporter: Reporter) -> Submission:
        """What a verified webhook says: finished outputs, or an error raised as ours."""
        status = payload.get("status")
        if status == "ERROR":
            detail = payload.get("payload")
            if isinstance(detail, dict) and "detail" in detail:
                raise _validation_error(detail["detail"])
            raise ProviderError(f"fal failed the request: {str(payload.get('error') or 'unknown error')[:500]}")
        if status != "OK":
            raise ProviderError("fal sent a webhook that could not be read")
        result = payload.get("payload")
        if result is None:
            # fal could not put the output in the webhook (payload_error): read it from the queue.
            return self.poll(request_id, job=job, reporter=reporter)
        if not isinstance(result, dict):
            raise ProviderError("fal sent a webhook that could not be read")
        return Submission(
            outputs=outputs_from_result(result, fmt=job.output_format)
        )

    def cancel(self, request_id: str) -> bool:
        from fal_client import FalClientHTTPError

        try:
            fal_handle(request_id).cancel()
        except FalClientHTTPError as exc:
            # 400 ALREADY_COMPLETED / 404 NOT_FOUND: nothing left to stop upstream.
            logger.info("fal did not cancel %s (HTTP %s)", request_id_of(request_id), exc.status_code)
            return False
        return True


def fal_call(function):
    """Runs one SDK call, turning what can go wrong into our errors."""
    import httpx
    from fal_client import FalClientHTTPError

    try:
        return function()
    except FalClientHTTPError as exc:
        raise _mapped(exc) from exc
    except httpx.TimeoutException as exc:
        raise ProviderTransient("fal did not answer in time") from exc
    except httpx.TransportError as exc:
        raise ProviderTransient("Could not reach fal") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # A 2xx whose body is not JSON, lacks the fields the SDK reads, or names an unknown status.
        raise ProviderError("fal returned an answer that could not be read") from exc


def _mapped(exc) -> ApplicationError:
    status = exc.status_code
    if status in (401, 403):
        # For the operator; the key itself is never logged.
        logger.error("fal rejected our credentials (HTTP %s): check FAL_KEY", status)
        return ProviderError("The provider rejected our credentials")
    if status in (400, 422):
        body = _json(exc.response)
        detail = body.get("detail", exc.message) if isinstance(body, dict) else exc.message
        return _validation_error(detail)
    if status == 429:
        return ProviderTransient("fal rate limit reached")
    if status >= 500 or status in (408, 409):
        return ProviderTransient(f"fal is unavailable (HTTP {status})")
    return ProviderError(f"fal failed the request (HTTP {status}): {str(exc.message)[:300]}")


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None


def _validation_error(detail) -> ValidationFailed:
    return ValidationFailed(f"fal refused the input: {_summary(detail)}", details={"provider": detail})


def _summary(detail) -> str:
    """FastAPI-style ``[{"loc": [...], "msg": ...}]`` as one line; anything else as text."""
    if isinstance(detail, list):
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc = [str(part) for part in item.get("loc") or [] if part != "body"]
                message = str(item.get("msg") or item)
                parts.append(f"{'.'.join(loc)}: {message}" if loc else message)
            else:
                parts.append(str(item))
        return "; ".join(parts)[:500] or "invalid input"
    return str(detail or "invalid input")[:500]


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
