"""The ComfyUI server itself (seed 002): is it up, and starting it with the operator's command."""

import subprocess
import time

from django.conf import settings
from django.core.cache import cache

from core.errors import ApplicationError, ComfyUIStartFailed, Conflict, ProviderUnavailable
from generation import providers

START_LOCK = "comfyui:start"


def _failed(reason: str, suggestion: str, **details) -> ComfyUIStartFailed:
    return ComfyUIStartFailed(details={"error": reason, "suggestion": suggestion, **details})


def _device(device: dict) -> dict:
    keys = ("name", "type", "index", "vram_total", "vram_free")
    return {key: device.get(key) for key in keys}


def comfyui_status() -> dict:
    """Seed 002's status: ``status`` and ``message``, plus whether the server answers, its queue
    length and its devices. Never raises: an unreachable server is a status, not an error."""
    if not settings.COMFYUI_URL:
        return {
            "status": "not_configured",
            "message": "ComfyUI is not configured on this server (COMFYUI_URL is not set)",
            "reachable": False,
            "queue_remaining": None,
            "devices": [],
        }
    provider = providers.get("comfyui")
    try:
        health = provider.system_stats()
    except (ProviderUnavailable, ApplicationError) as exc:
        return {
            "status": "unavailable",
            "message": f"ComfyUI service unavailable: {exc.message}. Check if ComfyUI is running.",
            "reachable": False,
            "queue_remaining": None,
            "devices": [],
        }
    system = health["stats"].get("system") or {}
    devices = [_device(device) for device in health["stats"].get("devices") or [] if isinstance(device, dict)]
    return {
        "status": "running",
        "message": f"ComfyUI is running with {health['queue_remaining']} prompt(s) in its queue",
        "reachable": True,
        "queue_remaining": health["queue_remaining"],
        "version": system.get("comfyui_version"),
        "devices": devices,
    }


def _reachable() -> bool:
    try:
        providers.get("comfyui").system_stats()
    except ApplicationError:
        return False
    return True


def comfyui_start() -> dict:
    """Runs the operator's ``COMFYUI_START_COMMAND`` (never anything from a request) and waits
    until the server answers. The command is a list of arguments run without a shell."""
    command = settings.COMFYUI_START_COMMAND
    if not settings.COMFYUI_URL:
        raise _failed("COMFYUI_URL is not set", "Set COMFYUI_URL to the address of your ComfyUI server.")
    if not (isinstance(command, list) and command and all(isinstance(part, str) and part for part in command)):
        raise _failed(
            "No start command is configured",
            "Set COMFYUI_START_COMMAND to the command that starts ComfyUI, as a JSON list of arguments, e.g. "
            '["python", "/opt/ComfyUI/main.py", "--listen", "127.0.0.1"].',
        )
    if _reachable():
        return {"status": "success", "message": "ComfyUI is already running"}
    wait = settings.ATELIER_COMFYUI_START_WAIT_SECONDS
    # One start at a time: two at once would launch two servers on the same port.
    if not cache.add(START_LOCK, True, timeout=int(wait) + 30):
        raise Conflict("ComfyUI is already being started")
    try:
        return _start(command, wait=wait)
    finally:
        cache.delete(START_LOCK)


def _start(command: list[str], *, wait: float) -> dict:
    try:
        # Its own session, so the server outlives this request and its worker process.
        process = subprocess.Popen(  # noqa: S603 - the operator's configured command, no shell
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,
        )
    except OSError as exc:
        raise _failed(
            f"Could not run the start command: {exc.strerror or exc}",
            "Check that COMFYUI_START_COMMAND names a program that exists and may be run.",
        ) from exc
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise _failed(
                f"The start command exited with code {code}",
                "Run COMFYUI_START_COMMAND by hand on the server to see its output.",
            )
        if _reachable():
            return {"status": "success", "message": "ComfyUI started successfully", "pid": process.pid}
        time.sleep(0.2)
    raise _failed(
        f"ComfyUI did not answer within {wait:g} s of starting (it may still be loading)",
        "Check the ComfyUI process and COMFYUI_URL, or raise ATELIER_COMFYUI_START_WAIT_SECONDS.",
        pid=process.pid,
    )
