"""A fake Hugging Face inference endpoint on 127.0.0.1 (text-to-image, PROTOCOLS.md §4).

Answers ``POST /models/<id>`` with a PNG of the requested size, or with a scripted failure:
queue answers with ``fail_next(kind, times=n)`` where kind is one of ``loading`` (503 with
``estimated_time``), ``401``, ``403``, ``429``, ``500``, ``400``, ``422``, ``garbage``
(200 with bytes that are not an image) or ``slow`` (the image, after ``slow_seconds``). Every request is recorded.
"""

import io
import json
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from PIL import Image

from tests.fakes.loopback import LoopbackFake


@dataclass
class RecordedRequest:
    path: str
    headers: dict
    body: dict

    @property
    def parameters(self) -> dict:
        return self.body.get("parameters") or {}


class FakeHuggingFace(LoopbackFake):
    def __init__(self, *, estimated_time: float = 0.2) -> None:
        self.estimated_time = estimated_time
        # How long a "slow" answer takes before it comes (longer than the client's timeout in tests).
        self.slow_seconds = 1.0
        self.requests: list[RecordedRequest] = []
        super().__init__()

    def _answer(self, path: str, body: dict) -> tuple[int, str, bytes]:
        failure = self._next_failure()
        model = path.split("/models/", 1)[-1]
        if failure == "loading":
            error = {"error": f"Model {model} is currently loading", "estimated_time": self.estimated_time}
            return 503, "application/json", json.dumps(error).encode()
        if failure in ("401", "403"):
            return int(failure), "application/json", b'{"error": "Invalid credentials in Authorization header"}'
        if failure == "429":
            return 429, "application/json", b'{"error": "Rate limit reached. You reached free usage limit."}'
        if failure == "500":
            return 500, "application/json", b'{"error": "Internal Server Error"}'
        if failure in ("400", "422"):
            message = {"error": "Input validation error: `width` must be a multiple of 8"}
            return int(failure), "application/json", json.dumps(message).encode()
        if failure == "garbage":
            return 200, "image/png", b"this is not an image"
        if failure == "slow":
            time.sleep(self.slow_seconds)
        parameters = body.get("parameters") or {}
        width, height = int(parameters.get("width", 512)), int(parameters.get("height", 512))
        seed = int(parameters.get("seed", 0))
        image = Image.new("RGB", (width, height), (seed % 256, 120, 200))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return 200, "image/png", buffer.getvalue()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                fake.requests.append(
                    RecordedRequest(path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body)
                )
                status, content_type, payload = fake._answer(self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
                pass

        return Handler
