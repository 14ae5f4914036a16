"""A fake fal.ai queue on 127.0.0.1 over HTTPS (PROTOCOLS.md §1), stateful and timed.

fal-client always speaks HTTPS and reads its hosts when first imported, so one fake serves the
whole test session (``shared_fake()``): it sets ``FAL_RUN_HOST``/``FAL_QUEUE_RUN_HOST`` to itself
and ``SSL_CERT_FILE`` to a bundle holding its test CA before anything imports the SDK, and
``reset()`` gives each test a clean state.

A submitted job is ``IN_QUEUE`` (``queue_ahead`` jobs before it) for ``queue_seconds``, then
``IN_PROGRESS`` with "step i/N" log lines for ``run_seconds``, then ``COMPLETED``. When the
submit carried ``fal_webhook``, the result is POSTed there like fal does, signed with an
ED25519 key whose JWK the fake serves at ``/.well-known/jwks.json``. Outputs are real PNG or
JPEG images of the requested size (``/files/...``), or a real MP4 for image-to-video.

Streaming: ``POST /{app}/stream`` (the SDK's ``stream``, on the run host) answers
``text/event-stream`` as fal's streaming apps do, chunk by chunk over ``run_seconds``: one
unnamed ``data: <JSON>`` event per step whose ``images`` hold a small JPEG data URI of the
image so far (lighter step by step) with ``step``/``total_steps``, then the result as the last
event. ``streams = False`` makes it an app without that endpoint (404); the scripted submit
failures below answer it as they answer a submit, and ``stream_cut`` drops the connection after
the first event.

``fail_next(kind, times=n)`` scripts the next submits: ``401``, ``403``, ``422``, ``429``,
``500``, ``slow`` (answers after ``slow_seconds``), ``garbage`` (200 that is not JSON); or the
job itself: ``run_error`` (completes with an error, webhook status ERROR), ``image_404`` (its
image URL 404s), ``garbage_status`` (status answers are not JSON), ``nsfw`` (safety checker
flags the images), ``foreign_url`` (the submit answer's URLs name another host).
"""

import base64
import hashlib
import io
import json
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from tests.fakes.loopback import JSONDispatchHandler, LoopbackFake, post_webhook
from tests.fakes.tls import make_certificates

KEY = "fal-test-key-id:fal-test-key-secret"
USER_ID = "fal-test-user"
SUBMIT_FAILURES = {"401", "403", "422", "429", "500", "slow", "garbage"}
PRESETS = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: object


@dataclass
class Job:
    id: str
    app: str
    endpoint: str
    arguments: dict
    webhook_url: str | None
    submitted: float
    failure: str | None = None
    cancelled: bool = False
    files: list[str] = field(default_factory=list)
    # Called on the app's /stream endpoint rather than queued.
    streamed: bool = False


@dataclass
class Delivery:
    url: str
    headers: dict
    body: bytes
    status: int


def tiny_mp4(width: int = 64, height: int = 64, frames: int = 8) -> bytes:
    """A real H.264 MP4, written by the ffmpeg that imageio-ffmpeg ships."""
    import tempfile

    import imageio_ffmpeg

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "clip.mp4")
        writer = imageio_ffmpeg.write_frames(path, (width, height), fps=8, macro_block_size=1, quality=5)
        writer.send(None)
        for index in range(frames):
            frame = Image.new("RGB", (width, height), (index * 30 % 256, 90, 160))
            writer.send(frame.tobytes())
        writer.close()
        with open(path, "rb") as handle:
            return handle.read()


class FakeFal(LoopbackFake):
    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self.certificates = make_certificates()
        self.signing_key = Ed25519PrivateKey.generate()
        self._video: bytes | None = None
        self._images: dict[tuple, bytes] = {}
        super().__init__()
        context = self.certificates.server_context()
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True, do_handshake_on_connect=False)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._failures = []
        self.queue_seconds = 0.05
        self.queue_ahead = 2
        self.run_seconds = 0.1
        self.steps = 4
        self.slow_seconds = 1.0
        self.webhook_delay = 0.0
        self.jobs: dict[str, Job] = {}
        self.requests: list[Recorded] = []
        self.deliveries: list[Delivery] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        self.jwks_fetches = 0
        self.streams = True

    @property
    def host(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/.well-known/jwks.json"

    # What tests look at

    def submits(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def calls(self, method: str, suffix: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]

    def only_job(self) -> Job:
        [job] = self.jobs.values()
        return job

    def advance(self, job: Job, seconds: float) -> None:
        """Moves the job's clock on, as if it had been submitted ``seconds`` earlier."""
        job.submitted -= seconds

    # The job's timeline

    def _state(self, job: Job) -> tuple[str, int, list[dict]]:
        elapsed = time.monotonic() - job.submitted
        if job.cancelled:
            return "COMPLETED", 0, []
        if elapsed < self.queue_seconds:
            return "IN_QUEUE", self.queue_ahead, []
        done = min(self.steps, int((elapsed - self.queue_seconds) / max(self.run_seconds, 1e-6) * self.steps))
        logs = [
            {
                "message": f"step {i}/{self.steps}",
                "level": "INFO",
                "source": "USER",
                "timestamp": "2026-01-01T00:00:00Z",
            }
            for i in range(1, done + 1)
        ]
        if elapsed < self.queue_seconds + self.run_seconds:
            return "IN_PROGRESS", 0, logs
        return "COMPLETED", 0, logs

    def _status_body(self, job: Job, with_logs: bool) -> tuple[int, dict]:
        status, position, logs = self._state(job)
        base = f"{self.url}/{job.app}/requests/{job.id}"
        body = {
            "status": status,
            "request_id": job.id,
            "response_url": base,
            "status_url": f"{base}/status",
            "cancel_url": f"{base}/cancel",
        }
        if status == "IN_QUEUE":
            body["queue_position"] = position
            return 202, body
        body["logs"] = logs if with_logs else None
        if status == "COMPLETED":
            body["metrics"] = {"inference_time": self.run_seconds}
            if job.cancelled:
                body["error"] = "Request was cancelled"
                body["error_type"] = "request_cancelled"
            elif job.failure == "run_error":
                body["error"] = "Invalid status code: 422"
                body["error_type"] = "validation_error"
            return 200, body
        return 202, body

    def _result(self, job: Job) -> dict:
        if job.failure == "run_error":
            return {"detail": [{"loc": ["body", "prompt"], "msg": "prompt is too long", "type": "value_error"}]}
        if job.endpoint == "fal-ai/flux-lora-fast-training":
            from tests.fakes.fal_training import training_result

            return training_result(self, job)
        seed = job.arguments.get("seed", 0)
        if job.endpoint.startswith("fal-ai/stable-video"):
            if self._video is None:
                self._video = tiny_mp4()
            return {"video": self._file(job, self._video, "video/mp4", "mp4"), "seed": seed}
        width, height = self._size(job.arguments)
        fmt = "jpeg" if job.arguments.get("output_format") == "jpeg" else "png"
        images = []
        for index in range(int(job.arguments.get("num_images", 1))):
            entry = self._file(job, self._image(width, height, fmt, (int(seed) + index) % 256), f"image/{fmt}", fmt)
            entry.update(width=width, height=height)
            images.append(entry)
        flagged = job.failure == "nsfw"
        return {
            "images": images,
            "seed": seed,
            "has_nsfw_concepts": [flagged] * len(images),
            "prompt": job.arguments.get("prompt", ""),
            "timings": {"inference": self.run_seconds},
        }

    def _image(self, width: int, height: int, fmt: str, shade: int) -> bytes:
        """A real image; encoded once per look, so that a busy fake stays cheap."""
        key = (width, height, fmt, shade)
        if key not in self._images:
            buffer = io.BytesIO()
            Image.new("RGB", (width, height), (shade, 110, 190)).save(buffer, format=fmt.upper())
            self._images[key] = buffer.getvalue()
        return self._images[key]

    def _size(self, arguments: dict) -> tuple[int, int]:
        if "upscale_factor" in arguments:
            source = Image.open(io.BytesIO(base64.b64decode(arguments["image_url"].split(",", 1)[1])))
            factor = float(arguments["upscale_factor"])
            return round(source.width * factor), round(source.height * factor)
        size = arguments.get("image_size", "landscape_4_3")
        if isinstance(size, dict):
            return int(size["width"]), int(size["height"])
        if "aspect_ratio" in arguments:
            w, h = (int(part) for part in arguments["aspect_ratio"].split(":"))
            return (1024, round(1024 * h / w)) if w >= h else (round(1024 * w / h), 1024)
        return PRESETS.get(size, (1024, 768))

    def _file(self, job: Job, data: bytes, content_type: str, extension: str) -> dict:
        name = f"{job.id}-{len(job.files)}.{extension}"
        job.files.append(name)
        self.files[name] = (content_type, data)
        return {
            "url": f"{self.url}/files/{name}",
            "content_type": content_type,
            "file_name": name,
            "file_size": len(data),
        }

    # Webhooks

    def sign(self, *, body: bytes, request_id: str, timestamp: int | None = None, user_id: str = USER_ID) -> dict:
        timestamp = int(time.time()) if timestamp is None else timestamp
        message = f"{request_id}\n{user_id}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}".encode()
        return {
            "X-Fal-Webhook-Request-Id": request_id,
            "X-Fal-Webhook-User-Id": user_id,
            "X-Fal-Webhook-Timestamp": str(timestamp),
            "X-Fal-Webhook-Signature": self.signing_key.sign(message).hex(),
        }

    def webhook_body(self, job: Job) -> bytes:
        result = self._result(job)
        if job.failure == "run_error":
            payload = {
                "request_id": job.id,
                "gateway_request_id": job.id,
                "status": "ERROR",
                "error": "Invalid status code: 422",
                "payload": result,
            }
        else:
            payload = {"request_id": job.id, "gateway_request_id": job.id, "status": "OK", "payload": result}
        return json.dumps(payload).encode()

    def _deliver(self, job: Job) -> None:
        if job.cancelled or not job.webhook_url:
            return
        body = self.webhook_body(job)
        headers = {"Content-Type": "application/json", **self.sign(body=body, request_id=job.id)}
        status = post_webhook(job.webhook_url, body=body, headers=headers)
        self.deliveries.append(Delivery(url=job.webhook_url, headers=headers, body=body, status=status))

    def jwks(self) -> dict:
        from cryptography.hazmat.primitives import serialization

        raw = self.signing_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "test-key", "alg": "EdDSA", "use": "sig"}]}

    # HTTP

    def _submit(self, path: str, query: dict, headers: dict, body) -> tuple[int, dict | bytes]:
        failure = self._next_failure()
        if headers.get("authorization") != f"Key {KEY}" or failure in ("401", "403"):
            return int(failure or 401), {"detail": "Unauthorized: invalid API key"}
        if failure == "422":
            return 422, {
                "detail": [{"loc": ["body", "image_size"], "msg": "Invalid image size", "type": "value_error"}]
            }
        if failure == "429":
            return 429, {"detail": "Too many requests: concurrent request limit reached"}
        if failure == "500":
            return 500, {"detail": "Internal server error"}
        if failure == "garbage":
            return 200, b"<html>this is not json</html>"
        if failure == "slow":
            time.sleep(self.slow_seconds)
        endpoint = path.strip("/")
        parts = endpoint.split("/")
        job = Job(
            id=str(uuid.uuid4()),
            app="/".join(parts[:2]),
            endpoint=endpoint,
            arguments=body if isinstance(body, dict) else {},
            webhook_url=(query.get("fal_webhook") or [None])[0],
            submitted=time.monotonic(),
            failure=failure if failure not in SUBMIT_FAILURES else None,
        )
        self.jobs[job.id] = job
        if job.webhook_url:
            delay = self.queue_seconds + self.run_seconds + self.webhook_delay
            timer = threading.Timer(delay, self._deliver, args=[job])
            timer.daemon = True
            timer.start()
        # "foreign_url": the answer names another host, which must never get our key.
        host = "https://192.0.2.1:9" if failure == "foreign_url" else self.url
        base = f"{host}/{job.app}/requests/{job.id}"
        return 200, {
            "status": "IN_QUEUE",
            "request_id": job.id,
            "gateway_request_id": job.id,
            "response_url": base,
            "status_url": f"{base}/status",
            "cancel_url": f"{base}/cancel",
            "queue_position": self.queue_ahead,
        }

    def _stream(self, handler, path: str, headers: dict, body) -> None:
        """Answers a call to an app's ``/stream`` endpoint: refused like a submit, or the events."""
        endpoint = path.strip("/").removesuffix("/stream")
        if not self.streams:
            return handler._send(404, {"detail": "Not Found"})
        failure = self._next_failure()
        if headers.get("authorization") != f"Key {KEY}" or failure in ("401", "403"):
            return handler._send(int(failure or 401), {"detail": "Unauthorized: invalid API key"})
        if failure == "422":
            detail = [{"loc": ["body", "image_size"], "msg": "Invalid image size", "type": "value_error"}]
            return handler._send(422, {"detail": detail})
        if failure in ("429", "500"):
            return handler._send(int(failure), {"detail": "Internal server error"})
        job = Job(
            id=str(uuid.uuid4()),
            app="/".join(endpoint.split("/")[:2]),
            endpoint=endpoint,
            arguments=body if isinstance(body, dict) else {},
            webhook_url=None,
            submitted=time.monotonic(),
            streamed=True,
        )
        self.jobs[job.id] = job
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("x-fal-request-id", job.id)
        handler.end_headers()

        def chunk(data: dict) -> None:
            payload = f"data: {json.dumps(data)}\n\n".encode()
            handler.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
            handler.wfile.flush()

        width, height = self._size(job.arguments)
        small = (max(8, width // 8), max(8, height // 8))
        for step in range(1, self.steps + 1):
            time.sleep(self.run_seconds / self.steps)
            shade = 40 + 200 * step // self.steps
            frame = io.BytesIO()
            Image.new("RGB", small, (shade, shade, 255 - shade)).save(frame, format="JPEG")
            uri = "data:image/jpeg;base64," + base64.b64encode(frame.getvalue()).decode()
            image = {"url": uri, "width": small[0], "height": small[1], "content_type": "image/jpeg"}
            chunk({"images": [image], "step": step, "total_steps": self.steps, "seed": job.arguments.get("seed")})
            if failure == "stream_cut":
                handler.close_connection = True
                return
        chunk(self._result(job))
        handler.wfile.write(b"0\r\n\r\n")

    def _queue_call(self, method: str, path: str, query: dict) -> tuple[int, dict | bytes]:
        parts = path.strip("/").split("/")
        # {owner}/{app}/requests/{id}[/status|/cancel]
        if len(parts) < 4 or parts[2] != "requests" or parts[3] not in self.jobs:
            return 404, {"detail": "Request not found"}
        job = self.jobs[parts[3]]
        action = parts[4] if len(parts) > 4 else ""
        if method == "GET" and action == "status":
            if job.failure == "garbage_status":
                return 200, b"{not json"
            with_logs = (query.get("logs") or ["0"])[0] in ("1", "true", "True")
            return self._status_body(job, with_logs)
        if method == "GET" and action == "":
            status, _, _ = self._state(job)
            if status != "COMPLETED":
                return 400, {"detail": "Request is still in progress"}
            if job.failure == "run_error":
                return 422, self._result(job)
            return 200, self._result(job)
        if method == "PUT" and action == "cancel":
            status, _, _ = self._state(job)
            if status == "COMPLETED":
                return 400, {"status": "ALREADY_COMPLETED"}
            job.cancelled = True
            return 202, {"status": "CANCELLATION_REQUESTED"}
        return 405, {"detail": "Method not allowed"}

    def _handler(self):
        fake = self

        class Handler(JSONDispatchHandler):
            protocol_version = "HTTP/1.1"

            def _read(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    return json.loads(raw) if raw else None
                except ValueError:
                    return raw

            def _extra_headers(self) -> dict[str, str]:
                return {"x-fal-request-id": str(uuid.uuid4())}

            def _dispatch(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                body = self._read()
                headers = {k.lower(): v for k, v in self.headers.items()}
                if parts.path == "/.well-known/jwks.json":
                    fake.jwks_fetches += 1
                    return self._send(200, fake.jwks())
                if parts.path.startswith("/files/"):
                    name = parts.path.rsplit("/", 1)[-1]
                    job = fake.jobs.get(name.rsplit("-", 1)[0])
                    if name not in fake.files or (job is not None and job.failure == "image_404"):
                        return self._send(404, {"detail": "File not found"})
                    content_type, data = fake.files[name]
                    return self._send(200, data, content_type)
                fake.requests.append(Recorded(method, parts.path, query, headers, body))
                if method == "POST" and parts.path.endswith("/stream"):
                    return fake._stream(self, parts.path, headers, body)
                if method == "POST":
                    status, answer = fake._submit(parts.path, query, headers, body)
                else:
                    if headers.get("authorization") != f"Key {KEY}":
                        return self._send(401, {"detail": "Unauthorized"})
                    status, answer = fake._queue_call(method, parts.path, query)
                self._send(status, answer)

        return Handler


_shared: FakeFal | None = None
_shared_lock = threading.Lock()


def shared_fake() -> FakeFal:
    """The session's fake fal; points fal-client at it before the SDK is first imported."""
    global _shared
    with _shared_lock:
        if _shared is None:
            fake = FakeFal().start()
            if "fal_client" in sys.modules:
                raise RuntimeError("fal_client was imported before the fake fal was set up")
            os.environ["FAL_RUN_HOST"] = fake.host
            os.environ["FAL_QUEUE_RUN_HOST"] = fake.host
            os.environ["SSL_CERT_FILE"] = str(fake.certificates.bundle_file)
            _shared = fake
        return _shared
