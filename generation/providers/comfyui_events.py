"""Following a ComfyUI prompt over the server's websocket: its progress and node events become
the generation's progress and log lines, and its binary preview frames the generation's
previews, for one bounded listening window.

Previews (PROTOCOLS.md §9). A socket announces ``supports_preview_metadata`` in its first message,
as ComfyUI's own frontend does; a server that knows the flag then sends each sampler preview as
a ``PREVIEW_IMAGE_WITH_METADATA`` frame (type 4) naming its prompt, an older one as a plain
``PREVIEW_IMAGE`` frame (type 1), which names none and belongs to the prompt executing at the
time (known from the last ``execution_start``/``executing``/``progress`` frame). The step a
preview shows is the last ``progress`` of its prompt, which ComfyUI sends just before it.
"""

import json
import logging
import struct
from contextlib import ExitStack
from urllib.parse import quote

from django.conf import settings

from generation.providers.base import Reporter

logger = logging.getLogger("generation.providers.comfyui")

# Binary frame types (ComfyUI's ``BinaryEventTypes``) and the image formats of type 1 frames.
PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
FEATURE_FLAGS = {"type": "feature_flags", "data": {"supports_preview_metadata": True}}


def open_socket(stack: ExitStack, *, client_id: str):
    """The websocket for this job's client id, or None if it cannot be opened (history still works)."""
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    base = settings.COMFYUI_URL.rstrip("/")
    url = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + f"/ws?clientId={quote(client_id)}"
    try:
        socket = stack.enter_context(
            connect(
                url,
                open_timeout=settings.ATELIER_COMFYUI_TIMEOUT_SECONDS,
                close_timeout=1,
                max_size=settings.ATELIER_COMFYUI_MAX_DOWNLOAD_BYTES,
            )
        )
        # ComfyUI reads feature flags only from a socket's first message.
        socket.send(json.dumps(FEATURE_FLAGS))
    except (OSError, TimeoutError, WebSocketException):
        logger.info("Could not open ComfyUI's websocket; following the prompt through its history only")
        return None
    return socket


def follow(socket, *, prompt_id: str, reporter: Reporter, previews: bool = True) -> None:
    """Reads the prompt's events into progress, log lines and (when ``previews``) previews until
    it ends or the window closes."""
    import time

    from websockets.exceptions import ConnectionClosed

    deadline = time.monotonic() + settings.ATELIER_COMFYUI_LISTEN_SECONDS
    last_percent = None
    # The prompt ComfyUI is executing, as its frames say, and the last step it reported of ours.
    executing: str | None = None
    step: tuple[int | None, int | None] = (None, None)
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            frame = socket.recv(timeout=remaining)
        except (TimeoutError, ConnectionClosed):
            return
        if isinstance(frame, bytes):
            if previews:
                image = preview_of(frame, prompt_id=prompt_id, executing=executing)
                if image is not None:
                    reporter.preview(image, step=step[0], total_steps=step[1])
            continue
        try:
            message = json.loads(frame)
            kind, data = message["type"], message.get("data") or {}
        except (ValueError, KeyError, TypeError):
            continue
        if not isinstance(data, dict):
            continue
        if kind == "executing" and data.get("node") is None:
            executing = None
        elif kind in ("execution_start", "executing", "progress"):
            # A frame without a prompt id (older servers, or the ``executing`` a reconnected
            # socket gets) is this client's: ComfyUI sends them only to the prompt's client.
            executing = data.get("prompt_id", prompt_id)
        if data.get("prompt_id", prompt_id) != prompt_id:
            continue
        if kind == "progress":
            maximum = data.get("max") or 0
            if isinstance(maximum, int | float) and maximum > 0:
                value = data.get("value", 0)
                step = (int(value), int(maximum)) if isinstance(value, int | float) else (None, None)
                percent = int(100 * value / maximum) if isinstance(value, int | float) else 0
                if percent != last_percent:
                    reporter.progress(percent)
                    last_percent = percent
        elif kind == "executing":
            if data.get("node") is None:
                return  # ComfyUI has written the prompt's history
            reporter.log(f"ComfyUI is running node {data['node']}")
        elif line := _log_line(kind, data):
            reporter.log(line)


def preview_of(frame: bytes, *, prompt_id: str, executing: str | None) -> bytes | None:
    """The encoded image of a binary preview frame that shows ``prompt_id``; None for a frame of
    another prompt, of another type, or that cannot be read."""
    if len(frame) < 8:
        return None
    (event,) = struct.unpack(">I", frame[:4])
    if event == PREVIEW_IMAGE:
        # [u32 1][u32 format: 1 JPEG, 2 PNG][image]: no prompt id, so the executing prompt's.
        return frame[8:] if executing == prompt_id and len(frame) > 8 else None
    if event == PREVIEW_IMAGE_WITH_METADATA:
        # [u32 4][u32 metadata length][JSON metadata][image]
        (length,) = struct.unpack(">I", frame[4:8])
        try:
            metadata = json.loads(frame[8 : 8 + length])
        except ValueError:
            return None
        if not isinstance(metadata, dict) or metadata.get("prompt_id") != prompt_id:
            return None
        image = frame[8 + length :]
        return image or None
    return None


def _log_line(kind: str, data: dict) -> str:
    if kind == "execution_start":
        return "ComfyUI started the prompt"
    if kind == "execution_cached" and data.get("nodes"):
        return f"ComfyUI reused {len(data['nodes'])} node(s) from its cache"
    if kind == "executed":
        images = (data.get("output") or {}).get("images") or []
        return f"Node {data.get('node')} produced {len(images)} image(s)"
    if kind == "execution_error":
        return (
            f"ComfyUI failed in node {data.get('node_id')} ({data.get('node_type')}): {data.get('exception_message')}"
        )
    if kind == "execution_interrupted":
        return f"ComfyUI interrupted the prompt at node {data.get('node_id')}"
    if kind == "execution_success":
        return "ComfyUI finished the prompt"
    return ""
