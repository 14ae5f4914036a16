"""A fake OpenAI Images API on 127.0.0.1 (``POST /v1/images/generations``, PROTOCOLS.md §2).

Answers with ``{"created", "data": [...]}``: one entry per ``n``, each a PNG (or the
``output_format`` asked of gpt-image-1) of the requested size, as ``b64_json`` or, when
``response_format`` is ``url`` (DALL·E's default), as a URL served by the fake itself;
``revised_prompt`` for dall-e-3 only. Scripted failures: ``fail_next(kind, times=n)`` with
kind one of ``content_policy``, ``invalid_size``, ``401``, ``429`` (with ``retry-after``),
``quota`` (429 insufficient_quota), ``500`` or ``garbage`` (200 whose body is not JSON).
Every request is recorded.
"""

import base64
import io
import json
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from PIL import Image

from tests.fakes.loopback import LoopbackFake

REVISED = "A detailed, vivid rendering of: {prompt}"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict
    body: dict


def _error(message: str, type_: str, code: str | None, param: str | None = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": type_, "param": param, "code": code}}).encode()


class FakeOpenAIImages(LoopbackFake):
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        # Answer with URLs even when base64 was asked for (as a proxy or an older API might).
        self.answer_with_url = False
        self._files: dict[str, bytes] = {}
        super().__init__()

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def generations(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/images/generations"]

    def _generate(self, body: dict) -> tuple[int, dict, bytes]:
        json_type = {"Content-Type": "application/json", "x-request-id": "req_fake"}
        failure = self._next_failure()
        if failure == "content_policy":
            message = (
                "Your request was rejected as a result of our safety system. Your prompt may contain "
                "text that is not allowed by our safety system."
            )
            return 400, json_type, _error(message, "invalid_request_error", "content_policy_violation")
        if failure == "invalid_size":
            message = f"'{body.get('size')}' is not one of ['1024x1024', '1024x1792', '1792x1024'] - 'size'"
            return 400, json_type, _error(message, "invalid_request_error", None, "size")
        if failure == "401":
            message = "Incorrect API key provided: sk-test***. You can find your API key at your account page."
            return 401, json_type, _error(message, "invalid_request_error", "invalid_api_key")
        if failure == "429":
            message = "Rate limit exceeded for images per minute. Please try again later."
            headers = {**json_type, "retry-after": "1"}
            return 429, headers, _error(message, "requests", "rate_limit_exceeded")
        if failure == "quota":
            message = "You exceeded your current quota, please check your plan and billing details."
            return 429, json_type, _error(message, "insufficient_quota", "insufficient_quota")
        if failure == "500":
            message = "The server had an error while processing your request. Sorry about that!"
            return 500, json_type, _error(message, "server_error", None)
        if failure == "garbage":
            return 200, json_type, b"{this is not json"

        model = body.get("model") or "dall-e-2"
        size = body.get("size") or "1024x1024"
        width, height = (int(part) for part in size.split("x"))
        fmt = body.get("output_format") or "png"
        as_url = (
            self.answer_with_url or not model.startswith("gpt-image") and body.get("response_format", "url") == "url"
        )
        data = []
        for index in range(int(body.get("n") or 1)):
            image = Image.new("RGB", (width, height), (40 * index % 256, 120, 200))
            buffer = io.BytesIO()
            image.save(buffer, format={"jpeg": "JPEG", "webp": "WEBP"}.get(fmt, "PNG"))
            entry = {"b64_json": None, "url": None, "revised_prompt": None}
            if as_url:
                name = f"img-{len(self._files)}.png"
                self._files[name] = buffer.getvalue()
                entry["url"] = f"{self.url}/files/{name}"
            else:
                entry["b64_json"] = base64.b64encode(buffer.getvalue()).decode()
            if model == "dall-e-3":
                entry["revised_prompt"] = REVISED.format(prompt=body.get("prompt", ""))
            data.append(entry)
        return 200, json_type, json.dumps({"created": int(time.time()), "data": data}).encode()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, headers: dict, payload: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(RecordedRequest(method="POST", path=self.path, headers=headers, body=body))
                if self.path != "/v1/images/generations":
                    self._send(
                        404, {"Content-Type": "application/json"}, _error("Not found", "invalid_request_error", None)
                    )
                    return
                self._send(*fake._generate(body))

            def do_GET(self):  # noqa: N802 - the http.server API
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(RecordedRequest(method="GET", path=self.path, headers=headers, body={}))
                payload = fake._files.get(self.path.rsplit("/", 1)[-1])
                if payload is None:
                    self._send(404, {"Content-Type": "text/plain"}, b"not found")
                else:
                    self._send(200, {"Content-Type": "image/png"}, payload)

            def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
                pass

        return Handler
