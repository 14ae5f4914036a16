"""Replicate's trainings API on the fake Replicate (tests/fakes/replicate.py).

``POST /v1/models/{owner}/{name}/versions/{version}/trainings`` (``input``, ``destination``,
``webhook``, ``webhook_events_filter``) → 201 training; ``GET /v1/trainings/{id}``;
``POST /v1/trainings/{id}/cancel``. A training follows the predictions' timeline (starting,
processing with a progress bar in its logs, then succeeded or failed) and ends with
``output = {"version": "<destination>:<id>", "weights": "<url of a .safetensors file>"}``.
Webhooks are signed with Standard Webhooks like the predictions'. ``fail_next("failed")`` makes
the next training fail; ``fail_next("404_destination")`` refuses an unknown destination.
"""

import json
import threading
import time
import uuid
from urllib.parse import urlsplit

from tests.fakes.replicate import FakeReplicate, Prediction, Recorded

DESTINATION = "atelier-test/loras"


class FakeReplicateTraining(FakeReplicate):
    def __init__(self) -> None:
        self.trainings: dict[str, Prediction] = {}
        self.destinations = {DESTINATION}
        super().__init__()

    def training_json(self, training: Prediction) -> dict:
        body = self.prediction_json(training)
        status = body["status"]
        body["destination"] = training.webhook_destination
        body["output"] = None
        body["error"] = "Training failed: loss became NaN" if status == "failed" else None
        if status == "succeeded":
            from tests.fakes.fal_training import lora_weights

            name = f"{training.id}-weights.safetensors"
            self.files.setdefault(name, lora_weights())
            version = f"{training.webhook_destination}:{training.id}"
            body["output"] = {"version": version, "weights": f"{self.url}/files/{name}"}
        base = f"{self.url}/v1/trainings/{training.id}"
        body["urls"] = {"get": base, "cancel": f"{base}/cancel"}
        return body

    def _deliver(self, prediction: Prediction, event: str) -> None:
        from tests.fakes.loopback import post_webhook
        from tests.fakes.replicate import Delivery

        if prediction.id not in self.trainings:
            return super()._deliver(prediction, event)
        body = json.dumps(self.training_json(prediction)).encode()
        headers = {"Content-Type": "application/json", **self.sign(body=body, webhook_id=f"msg_{uuid.uuid4().hex}")}
        status = post_webhook(prediction.webhook, body=body, headers=headers)
        self.deliveries.append(Delivery(prediction.webhook, event, headers, body, status))

    def _create_training(self, parts: list[str], body) -> tuple[int, dict]:
        failure = self._next_failure()
        body = body if isinstance(body, dict) else {}
        destination = body.get("destination")
        if failure == "404_destination" or destination not in self.destinations:
            return 404, {"title": "Not found", "detail": f"The destination {destination} does not exist", "status": 404}
        training = Prediction(
            id=uuid.uuid4().hex[:26],
            model=f"{parts[2]}/{parts[3]}",
            version=parts[5],
            input=body.get("input") or {},
            webhook=body.get("webhook"),
            events=body.get("webhook_events_filter") or ["start", "output", "logs", "completed"],
            created=time.monotonic(),
            failure=failure,
        )
        training.webhook_destination = destination
        self.trainings[training.id] = training
        if training.webhook:
            threading.Thread(target=self._watch, args=[training], daemon=True).start()
        return 201, self.training_json(training)

    def _handler(self):
        fake = self
        parent = super()._handler()

        class Handler(parent):
            def _dispatch(self, method: str) -> None:
                path = urlsplit(self.path).path
                if path.startswith("/files/") and path.endswith(".safetensors"):
                    data = fake.files.get(path.rsplit("/", 1)[-1])
                    if data is None:
                        return self._send(404, {"detail": "Not found"})
                    return self._send(200, data, "application/octet-stream")
                parts = path.strip("/").split("/")
                is_create = (
                    len(parts) == 7 and parts[1] == "models" and parts[4] == "versions" and parts[6] == "trainings"
                )
                if not (is_create or parts[:2] == ["v1", "trainings"]):
                    return super()._dispatch(method)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(Recorded(method, path, headers, body))
                if headers.get("authorization") != "Bearer r8_test_token":
                    return self._send(401, {"title": "Unauthenticated", "detail": "Invalid token", "status": 401})
                if method == "POST" and is_create:
                    return self._send(*fake._create_training(parts, body))
                training = fake.trainings.get(parts[2]) if len(parts) > 2 else None
                if training is None:
                    return self._send(404, {"title": "Not found", "detail": "Not found", "status": 404})
                if method == "GET" and len(parts) == 3:
                    return self._send(200, fake.training_json(training))
                if method == "POST" and parts[3:] == ["cancel"]:
                    if fake._status(training) in ("starting", "processing"):
                        training.cancelled_at = time.monotonic()
                    return self._send(200, fake.training_json(training))
                return self._send(404, {"title": "Not found", "detail": "Not found", "status": 404})

        return Handler
