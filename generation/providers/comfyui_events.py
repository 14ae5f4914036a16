"""Following a ComfyUI prompt over the server's websocket: its progress and node events become
the generation's progress and log lines, for one bounded listening window."""

import json
import logging
from contextlib import ExitStack
from urllib.parse import quote

from django.conf import settings

from generation.providers.base import Reporter

logger = logging.getLogger("generation.providers.comfyui")


def open_socket(stack: ExitStack, *, client_id: str):
    """The websocket for this job's client id, or None if it cannot be opened (history still works)."""
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    base = settings.COMFYUI_URL.rstrip("/")
    url = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + f"/ws?clientId={quote(client_id)}"
    try:
        return stack.enter_context(
            connect(
                url,
                open_timeout=settings.ATELIER_COMFYUI_TIMEOUT_SECONDS,
                close_timeout=1,
                max_size=settings.ATELIER_COMFYUI_MAX_DOWNLOAD_BYTES,
            )
        )
    except (OSError, TimeoutError, WebSocketException):
        logger.info("Could not open ComfyUI's websocket; following the prompt through its history only")
        return None


def follow(socket, *, prompt_id: str, reporter: Reporter) -> None:
    """Reads the prompt's events into progress and log lines until it ends or the window closes."""
    import time

    from websockets.exceptions import ConnectionClosed

    deadline = time.monotonic() + settings.ATELIER_COMFYUI_LISTEN_SECONDS
    last_percent = None
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            frame = socket.recv(timeout=remaining)
        except (TimeoutError, ConnectionClosed):
            return
        if isinstance(frame, bytes):
            continue  # a binary preview image
        try:
            message = json.loads(frame)
            kind, data = message["type"], message.get("data") or {}
        except (ValueError, KeyError, TypeError):
            continue
        if not isinstance(data, dict) or data.get("prompt_id", prompt_id) != prompt_id:
            continue
        if kind == "progress":
            maximum = data.get("max") or 0
            if isinstance(maximum, int | float) and maximum > 0:
                percent = int(100 * data.get("value", 0) / maximum)
                if percent != last_percent:
                    reporter.progress(percent)
                    last_percent = percent
        elif kind == "executing":
            if data.get("node") is None:
                return  # ComfyUI has written the prompt's history
            reporter.log(f"ComfyUI is running node {data['node']}")
        elif line := _log_line(kind, data):
            reporter.log(line)


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
