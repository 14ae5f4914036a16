"""A fake Replicate predictions API on 127.0.0.1 (PROTOCOLS.md §3), stateful and timed.

A prediction is ``starting`` for ``start_seconds``, ``processing`` for ``run_seconds`` (its
logs grow a tqdm-style progress bar, "  50%|#####     | 2/4"), then ``succeeded`` with real PNG
outputs served under ``/files/``. With ``webhook`` set it POSTs the prediction to that URL at the
events asked in ``webhook_events_filter`` (start, logs, completed), signed with Standard Webhooks
(``webhook-id``/``-timestamp``/``-signature``, HMAC-SHA256 with ``SECRET``), which
``GET /v1/webhooks/default/secret`` also answers.

Streaming (an iterator model, created with ``"stream": true``): the prediction's ``urls`` name a
``stream`` URL whose ``text/event-stream`` sends, as Replicate does, one ``output`` event per step
(``data:`` a JPEG data URI of the picture so far, lighter step by step and tinted by the seed),
then ``output`` events for the final images' URLs and ``done`` (``{}``), each with an id such as
``1690212292:0``, paced over ``run_seconds``; its ``output`` lists the frames so far while it
runs and every frame then the images once it has succeeded. ``streams = False`` is a model that
does not stream (no ``stream`` URL); ``stream_base`` points stream URLs at another host;
``get_failures = n`` makes the next n reads of a prediction answer 500.

``fail_next(kind, times=n)`` scripts the next creates: ``401``, ``403``, ``422``, ``429``, ``500``,
``slow``, ``garbage``; or the prediction: ``failed`` (ends failed with an error), ``image_404``.
"""

import base64
import hashlib
import hmac
import io
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from PIL import Image

from tests.fakes.loopback import JSONDispatchHandler, LoopbackFake, post_webhook

TOKEN = "r8_test_token"
SECRET = "whsec_" + base64.b64encode(b"atelier-test-replicate-signing-secret").decode()
CREATE_FAILURES = {"401", "403", "422", "429", "500", "slow", "garbage"}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: object


@dataclass
class Prediction:
    id: str
    model: str
    version: str
    input: dict
    webhook: str | None
    events: list[str]
    created: float
    failure: str | None = None
    cancelled_at: float | None = None
    sent: set = field(default_factory=set)
    stream: bool = False


@dataclass
class Delivery:
    url: str
    event: str
    headers: dict
    body: bytes
    status: int


class FakeReplicate(LoopbackFake):
    def __init__(self) -> None:
        self.start_seconds = 0.05
        self.run_seconds = 0.1
        self.slow_seconds = 1.0
        self.predictions: dict[str, Prediction] = {}
        self.requests: list[Recorded] = []
        self.deliveries: list[Delivery] = []
        self.files: dict[str, bytes] = {}
        self.streams = True
        self.steps = 4
        # Where the stream URLs point (None: this fake); another host tests who may follow them.
        self.stream_base: str | None = None
        # How many of the next reads of a prediction answer 500.
        self.get_failures = 0
        super().__init__()

    def creates(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/predictions")]

    def calls(self, method: str, suffix: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]

    def _status(self, prediction: Prediction) -> str:
        if prediction.cancelled_at is not None:
            return "canceled"
        elapsed = time.monotonic() - prediction.created
        if elapsed < self.start_seconds:
            return "starting"
        if elapsed < self.start_seconds + self.run_seconds:
            return "processing"
        return "failed" if prediction.failure == "failed" else "succeeded"

    def _logs(self, prediction: Prediction, status: str) -> str:
        if status == "starting":
            return ""
        elapsed = time.monotonic() - prediction.created - self.start_seconds
        steps = 4
        done = steps if status != "processing" else min(steps, int(elapsed / max(self.run_seconds, 1e-6) * steps))
        lines = [f"Using seed: {prediction.input.get('seed', 0)}"]
        for step in range(1, done + 1):
            bar = "#" * (step * 10 // steps)
            lines.append(f"{step * 100 // steps:3d}%|{bar:<10}| {step}/{steps} [00:0{step}<00:00, 2.00it/s]")
        return "\n".join(lines) + "\n"

    def _steps_done(self, prediction: Prediction) -> int:
        elapsed = time.monotonic() - prediction.created - self.start_seconds
        return max(0, min(self.steps, int(elapsed / max(self.run_seconds, 1e-6) * self.steps)))

    def frame(self, prediction: Prediction, step: int) -> str:
        """The picture so far after ``step`` steps, as a JPEG data URI."""
        seed = int(prediction.input.get("seed", 0)) % 256
        shade = 40 + 200 * step // self.steps
        buffer = io.BytesIO()
        width, height = _size(prediction.input)
        Image.new("RGB", (max(8, width // 8), max(8, height // 8)), (shade, seed, 255 - shade)).save(
            buffer, format="JPEG"
        )
        return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()

    def prediction_json(self, prediction: Prediction) -> dict:
        status = self._status(prediction)
        output = None
        if status == "succeeded":
            output = [
                self._output_url(prediction, index) for index in range(int(prediction.input.get("num_outputs", 1)))
            ]
        if prediction.stream and status in ("processing", "succeeded"):
            steps = self.steps if status == "succeeded" else self._steps_done(prediction)
            output = [self.frame(prediction, step) for step in range(1, steps + 1)] + (output or [])
        base = f"{self.url}/v1/predictions/{prediction.id}"
        return {
            "id": prediction.id,
            "model": prediction.model,
            "version": prediction.version,
            "input": prediction.input,
            "logs": self._logs(prediction, status),
            "output": output,
            "data_removed": False,
            "error": "CUDA out of memory" if status == "failed" else None,
            "status": status,
            "source": "api",
            "created_at": "2026-01-01T00:00:00.000000Z",
            "started_at": None if status == "starting" else "2026-01-01T00:00:01.000000Z",
            "completed_at": datetime.now(UTC).isoformat() if status in ("succeeded", "failed", "canceled") else None,
            "metrics": {"predict_time": self.run_seconds} if status in ("succeeded", "failed") else {},
            "urls": {
                "get": base,
                "cancel": f"{base}/cancel",
                "web": f"https://replicate.com/p/{prediction.id}",
                **(
                    {"stream": f"{self.stream_base or self.url}/v1/streams/{prediction.id}"}
                    if prediction.stream
                    else {}
                ),
            },
        }

    def _stream(self, handler, prediction: Prediction) -> None:
        """The prediction's event stream, as Replicate sends it while the model runs."""
        try:
            self._send_events(handler, prediction)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped following

    def _send_events(self, handler, prediction: Prediction) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        serial = 0

        def event(kind: str, data: str) -> None:
            nonlocal serial
            handler.wfile.write(f"event: {kind}\nid: {int(time.time())}:{serial}\ndata: {data}\n\n".encode())
            handler.wfile.flush()
            serial += 1

        sent = 0
        while True:
            status = self._status(prediction)
            done = self.steps if status != "starting" and status != "processing" else self._steps_done(prediction)
            for step in range(sent + 1, done + 1):
                event("output", self.frame(prediction, step))
            sent = done
            if status == "succeeded":
                for url in self.prediction_json(prediction)["output"][self.steps :]:
                    event("output", url)
                event("done", "{}")
                return
            if status in ("failed", "canceled"):
                if status == "failed":
                    event("error", json.dumps({"detail": "CUDA out of memory"}))
                event("done", json.dumps({"reason": "error" if status == "failed" else "canceled"}))
                return
            time.sleep(0.01)

    def _output_url(self, prediction: Prediction, index: int) -> str:
        name = f"{prediction.id}-{index}.png"
        if name not in self.files:
            width, height = _size(prediction.input)
            picture = Image.new("RGB", (width, height), ((int(prediction.input.get("seed", 0)) + index) % 256, 60, 90))
            buffer = io.BytesIO()
            picture.save(buffer, format="PNG")
            self.files[name] = buffer.getvalue()
        return f"{self.url}/files/{name}"

    # Webhooks

    def sign(self, *, body: bytes, webhook_id: str, timestamp: int | None = None) -> dict:
        timestamp = int(time.time()) if timestamp is None else timestamp
        key = base64.b64decode(SECRET.split("_", 1)[1])
        digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
        return {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": f"v1,{base64.b64encode(digest).decode()}",
        }

    def _watch(self, prediction: Prediction) -> None:
        """Sends the webhook events the prediction asked for, as its status moves."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = self._status(prediction)
            if status != "starting" and "start" not in prediction.sent:
                prediction.sent.add("start")
                if "start" in prediction.events:
                    self._deliver(prediction, "start")
            if status in ("succeeded", "failed", "canceled"):
                if "completed" in prediction.events:
                    self._deliver(prediction, "completed")
                return
            time.sleep(0.02)

    def _deliver(self, prediction: Prediction, event: str) -> None:
        body = json.dumps(self.prediction_json(prediction)).encode()
        headers = {"Content-Type": "application/json", **self.sign(body=body, webhook_id=f"msg_{uuid.uuid4().hex}")}
        status = post_webhook(prediction.webhook, body=body, headers=headers)
        self.deliveries.append(Delivery(prediction.webhook, event, headers, body, status))

    # HTTP

    def _create(self, path: str, body) -> tuple[int, dict | bytes]:
        failure = self._next_failure()
        if failure in ("401", "403"):
            return int(failure), {
                "title": "Unauthenticated",
                "detail": "You did not pass a valid authentication token",
                "status": int(failure),
            }
        if failure == "422":
            return 422, {
                "title": "Input validation failed",
                "detail": "- input.num_outputs: Must be less than or equal to 4",
                "status": 422,
            }
        if failure == "429":
            return 429, {"title": "Too Many Requests", "detail": "Request was throttled.", "status": 429}
        if failure == "500":
            return 500, {"title": "Internal Server Error", "detail": "Something went wrong", "status": 500}
        if failure == "garbage":
            return 201, b"<html>not json</html>"
        if failure == "slow":
            time.sleep(self.slow_seconds)
        body = body if isinstance(body, dict) else {}
        parts = path.strip("/").split("/")
        if parts[1] == "models":
            model, version = f"{parts[2]}/{parts[3]}", "hidden"
        else:
            model, version = "owner/model", str(body.get("version", ""))
        prediction = Prediction(
            id=uuid.uuid4().hex[:26],
            model=model,
            version=version,
            input=body.get("input") or {},
            webhook=body.get("webhook"),
            events=body.get("webhook_events_filter") or ["start", "output", "logs", "completed"],
            created=time.monotonic(),
            failure=failure if failure not in CREATE_FAILURES else None,
            stream=bool(body.get("stream")) and self.streams,
        )
        self.predictions[prediction.id] = prediction
        if prediction.webhook:
            threading.Thread(target=self._watch, args=[prediction], daemon=True).start()
        return 201, self.prediction_json(prediction)

    def _handler(self):
        fake = self

        class Handler(JSONDispatchHandler):
            def _dispatch(self, method: str) -> None:
                path = urlsplit(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                headers = {k.lower(): v for k, v in self.headers.items()}
                if path.startswith("/files/"):
                    name = path.rsplit("/", 1)[-1]
                    prediction = fake.predictions.get(name.rsplit("-", 1)[0])
                    if name not in fake.files or (prediction is not None and prediction.failure == "image_404"):
                        return self._send(404, {"detail": "Not found"})
                    return self._send(200, fake.files[name], "image/png")
                fake.requests.append(Recorded(method, path, headers, body))
                if headers.get("authorization") != f"Bearer {TOKEN}":
                    return self._send(401, {"title": "Unauthenticated", "detail": "Invalid token", "status": 401})
                streamed = path.removeprefix("/v1/streams/")
                if method == "GET" and streamed != path and streamed in fake.predictions:
                    return fake._stream(self, fake.predictions[streamed])
                parts = path.strip("/").split("/")
                if method == "POST" and path.endswith("/predictions"):
                    return self._send(*fake._create(path, body))
                if method == "GET" and path == "/v1/webhooks/default/secret":
                    return self._send(200, {"key": SECRET})
                if len(parts) >= 3 and parts[:2] == ["v1", "predictions"] and parts[2] in fake.predictions:
                    prediction = fake.predictions[parts[2]]
                    if method == "GET" and len(parts) == 3 and fake.get_failures > 0:
                        fake.get_failures -= 1
                        return self._send(500, {"title": "Internal Server Error", "detail": "Try again", "status": 500})
                    if method == "GET" and len(parts) == 3:
                        return self._send(200, fake.prediction_json(prediction))
                    if method == "POST" and parts[3:] == ["cancel"]:
                        if fake._status(prediction) in ("starting", "processing"):
                            prediction.cancelled_at = time.monotonic()
                        return self._send(200, fake.prediction_json(prediction))
                return self._send(404, {"title": "Not found", "detail": "Not found", "status": 404})

        return Handler


def _size(values: dict) -> tuple[int, int]:
    if "width" in values and "height" in values:
        return int(values["width"]), int(values["height"])
    ratio = values.get("aspect_ratio", "1:1")
    w, h = (int(part) for part in ratio.split(":"))
    return (1024, round(1024 * h / w)) if w >= h else (round(1024 * w / h), 1024)
