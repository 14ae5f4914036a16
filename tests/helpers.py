import io
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

from PIL import Image

T = TypeVar("T")

LOCAL_MODEL = "local/procedural"


def assert_envelope(response, status: int, error_type: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    assert body["code"] == status
    assert body["error"]
    assert body["request_id"] == response["X-Request-ID"]
    assert body["timestamp"].endswith("Z")
    if error_type:
        assert body["type"] == error_type
    return body


def generate(client, **payload):
    payload.setdefault("model", LOCAL_MODEL)
    payload.setdefault("prompt", "a lighthouse at sunset")
    return client.post("/api/generate", payload, format="json")


def fetch_image(client, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200, response.content
    data = b"".join(response.streaming_content)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def pixels(client, url: str) -> bytes:
    return fetch_image(client, url).tobytes()


def generation_of(client, generation_id) -> dict:
    """The generation as its owner's ``GET /api/generate/{id}`` shows it."""
    return client.get(f"/api/generate/{generation_id}").json()["generation"]


def generate_done(client, **payload) -> dict:
    """Posts a generation and returns it as GET shows it once the request's work has run."""
    response = generate(client, **payload)
    assert response.status_code == 201, response.content
    generation_id = response.json()["generation"]["id"]
    return client.get(f"/api/generate/{generation_id}").json()["generation"]


def signed_in(user):
    """A browser-like client with the user's session, for the HTML pages."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def credits_remaining(client) -> int:
    """The caller's balance as the API shows it."""
    return client.get("/api/credits").json()["credits"]["remaining"]


def log_messages(generation: dict) -> list[str]:
    return [line["message"] for line in generation["logs"]]


def sse_frames(text: str) -> list[dict]:
    """The named events of a server-sent event stream, with their JSON data."""
    import json

    frames = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            frame = {"event": fields["event"], "data": json.loads(fields["data"])}
            if "id" in fields:
                frame["id"] = int(fields["id"])
            frames.append(frame)
    return frames


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float = 60.0,
    interval: float = 0.05,
    message: str | Callable[[], str] = "",
) -> T:
    """Asks ``condition`` until it returns something truthy, and returns that.

    Only for what another thread or process does (a worker, a live server, a fake's callback):
    time that code under test waits for itself is moved with time-machine instead. Fails after
    ``timeout`` seconds with ``message`` (or what a callable ``message`` returns then, such as a
    process's log).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            said = message() if callable(message) else message
            raise AssertionError(f"after {timeout} s: {said or 'the condition did not hold'}")
        time.sleep(interval)


@contextmanager
def asgi_server_running(application=None):
    """Serves ``application`` (Django's stock ASGI handler unless given) with uvicorn on a free
    loopback port, in a thread of this process, and yields its base URL."""
    import threading

    import uvicorn
    from django.core.asgi import get_asgi_application

    config = uvicorn.Config(
        application or get_asgi_application(), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    wait_until(lambda: instance.started, timeout=10)
    port = instance.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(10)
