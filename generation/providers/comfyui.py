"""A self-hosted ComfyUI server (``COMFYUI_URL``), over its HTTP API and its websocket.

The graph comes from the catalog: the model's ``defaults["workflow"]`` names a workflow
template (the job system puts it in the job, see ``needs``) whose slots take the prompt,
negative prompt, size, batch size, steps, cfg, seed and checkpoint (the model's ``provider_model``).

How a job is followed. ComfyUI runs one prompt at a time and queues the rest, so a job can
wait behind others for a long time. Holding a worker on the websocket for the whole job would
tie up a worker per queued prompt, so ComfyUI is a queued provider like the hosted ones, with
bounded windows of listening: ``submit`` opens the websocket with the job's client id, posts
the graph to ``/prompt`` and follows ComfyUI's events for at most ATELIER_COMFYUI_LISTEN_SECONDS
(progress → the generation's progress, node events → its log, binary preview frames → its
previews, see comfyui_events). A prompt that finishes within
that window completes inline; otherwise submit returns the prompt id and each ``poll`` opens the
websocket again for one more window. Whether a prompt has finished, and how, is read from
``/history/{prompt_id}``; events sent while no one listens are lost, which only costs
intermediate progress. The client id is the generation id because ComfyUI sends a prompt's
execution events only to the socket of the client that queued it.
"""

import copy
import logging
from contextlib import ExitStack
from urllib.parse import quote, urlencode

from django.conf import settings

from core.errors import ProviderError, ProviderTransient
from generation.providers.base import Provider, ProviderJob, ProviderOutput, Reporter, Submission, Workflow
from generation.providers.comfyui_events import follow, open_socket
from generation.providers.downloads import read_capped
from generation.providers.outputs import checked_image

logger = logging.getLogger(__name__)

DEFAULT_WORKFLOW = "text-to-image"


class ComfyUIProvider(Provider):
    name = "comfyui"
    capabilities = frozenset({"text-to-image"})
    needs = frozenset({"workflow"})

    def is_configured(self) -> bool:
        return bool(settings.COMFYUI_URL)

    def submit(self, job: ProviderJob, *, reporter: Reporter) -> Submission:
        graph = _graph(job)
        facts = _facts(job)
        with _client() as http, ExitStack() as stack:
            # The socket opens before the prompt is queued, so no event of a fast prompt is missed.
            socket = open_socket(stack, client_id=job.generation_id)
            answer = _json(_call(http, "POST", "/prompt", json={"prompt": graph, "client_id": job.generation_id}))
            prompt_id = answer.get("prompt_id") if isinstance(answer, dict) else None
            if not isinstance(prompt_id, str) or not prompt_id:
                raise ProviderError("ComfyUI accepted the workflow but returned no prompt id")
            # Recorded at once, so that a cancel while this worker still follows the prompt can
            # reach ComfyUI (the job system records it too, but only when submit returns).
            reporter.request_id(prompt_id)
            reporter.log(f"Queued on ComfyUI as prompt {prompt_id} (number {answer.get('number', '?')})")
            try:
                return _follow_and_collect(
                    http, socket, prompt_id=prompt_id, facts=facts, reporter=reporter, since_queued=True
                )
            except ProviderTransient as exc:
                # The prompt is queued: polls follow it from here. Letting the error through would
                # have the job system submit it a second time.
                reporter.log(f"{exc.message}; following the prompt by polling")
                return Submission(request_id=prompt_id)

    def poll(self, request_id: str, *, job: ProviderJob, reporter: Reporter) -> Submission:
        facts = _facts(job)
        with _client() as http, ExitStack() as stack:
            socket = open_socket(stack, client_id=facts["client_id"])
            return _follow_and_collect(http, socket, prompt_id=request_id, facts=facts, reporter=reporter)

    def cancel(self, request_id: str) -> bool:
        """Deletes the prompt from ComfyUI's queue, or interrupts it if it is the one running.

        ``/interrupt`` stops whatever prompt is running, whoever queued it, so it is sent only
        when the queue shows this prompt running, and names the prompt: servers that know the
        ``prompt_id`` field then interrupt only that prompt even if the queue moved on meanwhile.
        """
        with _client() as http:
            queue = _json(_call(http, "GET", "/queue"))
            running = _queue_ids(queue, "queue_running")
            pending = _queue_ids(queue, "queue_pending")
            if request_id in pending:
                _call(http, "POST", "/queue", json={"delete": [request_id]})
                return True
            if request_id in running:
                _call(http, "POST", "/interrupt", json={"prompt_id": request_id})
                return True
        return False

    def system_stats(self) -> dict:
        """``/system_stats`` and the queue length, or ProviderUnavailable when unreachable."""
        with _client() as http:
            stats = _json(_call(http, "GET", "/system_stats"))
            queue = _json(_call(http, "GET", "/prompt"))
        remaining = (queue.get("exec_info") or {}).get("queue_remaining", 0) if isinstance(queue, dict) else 0
        return {"stats": stats if isinstance(stats, dict) else {}, "queue_remaining": remaining}


def workflow_name(params: dict) -> str:
    """The workflow template a job's upstream params (catalog defaults, then the request's) name."""
    return params.get("workflow") or DEFAULT_WORKFLOW


def _graph(job: ProviderJob) -> dict:
    params = job.upstream_params
    template = job.workflow
    if template is None:
        raise ProviderError(f"The ComfyUI workflow template '{workflow_name(params)}' is not in the catalog")
    values = {
        "prompt": job.prompt,
        "negative_prompt": job.negative_prompt,
        "checkpoint": job.upstream_model if job.upstream_model != job.model_id else "",
        "width": job.width,
        "height": job.height,
        "batch_size": job.num_images,
        "seed": job.seed,
        "steps": params.get("num_inference_steps"),
        "cfg": params.get("guidance_scale"),
    }
    return _render(template, values=values)


def _render(template: Workflow, *, values: dict) -> dict:
    """The template's graph with each slot set to its value; a value of None keeps the graph's own
    (as the catalog's ``workflow_render``, on the template's plain data)."""
    graph = copy.deepcopy(template.graph)
    for name, (node_id, input_name) in template.slots.items():
        value = values.get(name)
        if value is None or (name == "checkpoint" and not value):
            continue
        graph[node_id]["inputs"][input_name] = template.slot_types[name](value)
    return graph


def _facts(job: ProviderJob) -> dict:
    return {
        "client_id": job.generation_id,
        "format": job.output_format,
        "seed": job.seed,
        "count": job.num_images,
        "previews": job.previews,
    }


def _client():
    import httpx2

    return httpx2.Client(
        base_url=settings.COMFYUI_URL.rstrip("/"), timeout=settings.ATELIER_COMFYUI_TIMEOUT_SECONDS, trust_env=False
    )


def _call(http, method: str, path: str, **kwargs):
    import httpx2

    try:
        response = http.request(method, path, **kwargs)
    except httpx2.TimeoutException as exc:
        raise ProviderTransient("ComfyUI did not answer in time") from exc
    except httpx2.TransportError as exc:
        raise ProviderTransient("Could not reach the ComfyUI server") from exc
    if response.status_code >= 500:
        raise ProviderTransient(f"ComfyUI is unavailable (HTTP {response.status_code})")
    if response.status_code == 400 and path == "/prompt":
        raise ProviderError(f"ComfyUI refused the workflow: {_validation_message(response)}")
    if response.status_code >= 400:
        raise ProviderError(f"ComfyUI answered HTTP {response.status_code} to {method} {path}")
    return response


def _json(response):
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderError("ComfyUI returned an answer that could not be read") from exc


def _validation_message(response) -> str:
    """The node errors of a 400 from ``/prompt``, as one line a user can act on."""
    try:
        body = response.json()
    except ValueError:
        return "invalid workflow"
    parts = []
    for node_id, node in (body.get("node_errors") or {}).items():
        for error in node.get("errors") or []:
            detail = error.get("details") or ""
            parts.append(f"node {node_id} ({node.get('class_type', '?')}): {error.get('message', '')} {detail}".strip())
    if not parts:
        error = body.get("error")
        parts.append(error.get("message", "invalid workflow") if isinstance(error, dict) else str(error or "invalid"))
    return "; ".join(parts)[:500]


def _history(http, prompt_id: str) -> dict | None:
    """The prompt's history entry once it has finished; None while it is queued or running."""
    body = _json(_call(http, "GET", f"/history/{quote(prompt_id, safe='')}"))
    entry = body.get(prompt_id) if isinstance(body, dict) else None
    if not isinstance(entry, dict):
        return None
    status = entry.get("status") or {}
    if not status.get("completed") and status.get("status_str") != "error":
        return None
    return entry


def _queue_ids(queue, key: str) -> set[str]:
    items = queue.get(key) if isinstance(queue, dict) else None
    return {item[1] for item in items or [] if isinstance(item, list) and len(item) > 1}


def _check_still_queued(http, prompt_id: str) -> None:
    queue = _json(_call(http, "GET", "/queue"))
    if prompt_id in _queue_ids(queue, "queue_running") | _queue_ids(queue, "queue_pending"):
        return
    # It may have finished between the two reads.
    if _history(http, prompt_id) is not None:
        return
    raise ProviderError("ComfyUI no longer knows the prompt (was the server restarted or its queue cleared?)")


def _follow_and_collect(
    http, socket, *, prompt_id: str, facts: dict, reporter: Reporter, since_queued: bool = False
) -> Submission:
    # A socket opened before the prompt was queued sees its end; a later one may have missed it.
    entry = None if since_queued else _history(http, prompt_id)
    if entry is None and socket is not None:
        follow(socket, prompt_id=prompt_id, reporter=reporter, previews=facts["previews"])
        entry = _history(http, prompt_id)
    if entry is None:
        _check_still_queued(http, prompt_id)
        return Submission(request_id=prompt_id)
    return Submission(outputs=_outputs(http, entry, facts=facts))


def _failure(entry: dict) -> ProviderError:
    for kind, data in (entry.get("status") or {}).get("messages") or []:
        if kind == "execution_error":
            return ProviderError(
                f"ComfyUI failed in node {data.get('node_id')} ({data.get('node_type')}): "
                f"{str(data.get('exception_message', '')).strip()[:400]}"
            )
        if kind == "execution_interrupted":
            return ProviderError("ComfyUI interrupted the prompt")
    return ProviderError("ComfyUI reported an error running the workflow")


def _outputs(http, entry: dict, *, facts: dict) -> list[ProviderOutput]:
    if (entry.get("status") or {}).get("status_str") == "error":
        raise _failure(entry)
    images = [image for node in (entry.get("outputs") or {}).values() for image in node.get("images") or []]
    # SaveImage writes "output" images; preview nodes write "temp" ones, used only when nothing was saved.
    saved = [image for image in images if image.get("type", "output") == "output"] or images
    if not saved:
        raise ProviderError("ComfyUI finished the workflow without an image")
    return [_fetch(http, image, facts=facts) for image in saved[: facts["count"]]]


def _fetch(http, image: dict, *, facts: dict) -> ProviderOutput:
    query = urlencode(
        {
            "filename": image.get("filename", ""),
            "subfolder": image.get("subfolder", ""),
            "type": image.get("type", "output"),
        }
    )
    data = _download(http, f"/view?{query}")
    return checked_image(data, provider="ComfyUI", fmt=facts["format"], seed=facts["seed"])


def _download(http, path: str) -> bytes:
    import httpx2

    limit = settings.ATELIER_COMFYUI_MAX_DOWNLOAD_BYTES
    try:
        with http.stream("GET", path) as response:
            if response.status_code >= 500:
                raise ProviderTransient(f"ComfyUI's image download failed (HTTP {response.status_code})")
            if response.status_code != 200:
                raise ProviderError(f"ComfyUI's /view answered HTTP {response.status_code}")
            return read_capped(response, limit=limit, too_large="ComfyUI's image is larger than allowed")
    except httpx2.TimeoutException as exc:
        raise ProviderTransient("ComfyUI's image download timed out") from exc
    except httpx2.TransportError as exc:
        raise ProviderTransient("Could not download ComfyUI's image") from exc
