"""A fake OpenAI Images API on 127.0.0.1 (PROTOCOLS.md §2): ``POST /v1/images/generations``
(JSON), ``/v1/images/edits`` and ``/v1/images/variations`` (multipart; ``image`` or ``image[]``,
``mask``). Edits check what OpenAI checks: a mask must be an RGBA PNG of the image's size, and
DALL·E 2 wants a square image; an edit comes back red where the mask is fully transparent.
GPT Image's ``background`` and ``output_compression`` are checked as OpenAI checks them
(``transparent`` needs png or webp; compression 0-100; neither for DALL·E) and applied.

Answers with ``{"created", "data": [...]}``: one entry per ``n``, each a PNG (or the
``output_format`` asked of gpt-image-1) of the requested size, as ``b64_json`` or, when
``response_format`` is ``url`` (DALL·E's default), as a URL served by the fake itself;
``revised_prompt`` for dall-e-3 only. Scripted failures: ``fail_next(kind, times=n)`` with
kind one of ``content_policy``, ``invalid_size``, ``401``, ``429`` (with ``retry-after``),
``quota`` (429 insufficient_quota), ``500``, ``garbage`` (200 whose body is not JSON) or
``slow`` (the answer, after ``slow_seconds``).

Streaming (gpt-image-1, ``stream: true``): the answer is ``text/event-stream``, per image
``partial_images`` events ``image_generation.partial_image`` (``image_edit.partial_image`` for
edits; ``b64_json`` of an image of the final size, coarser the earlier it comes, with its
0-based ``partial_image_index``), then ``image_generation.completed`` (``image_edit.completed``)
with the final image and ``usage``, each as ``event: <type>`` and ``data: <JSON>``. Streams
fail with ``stream_error`` (an ``error`` event after the first partial image) or ``stream_cut``
(the connection closes after it). Streaming a DALL·E model is refused with OpenAI's 400.
Every request is recorded.
"""

import base64
import email.parser
import email.policy
import io
import json
import time
from dataclasses import dataclass, field
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
    # Multipart file parts by field name (edits and variations).
    files: dict = field(default_factory=dict)


def _error(message: str, type_: str, code: str | None, param: str | None = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": type_, "param": param, "code": code}}).encode()


class FakeOpenAIImages(LoopbackFake):
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        # Answer with URLs even when base64 was asked for (as a proxy or an older API might).
        self.answer_with_url = False
        # How long a "slow" answer takes before it comes (longer than the client's timeout in tests).
        self.slow_seconds = 1.0
        # The pause before each event of a streamed answer (OpenAI sends them as the image is drawn).
        self.stream_delay = 0.0
        self._files: dict[str, bytes] = {}
        super().__init__()

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def generations(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/images/generations"]

    @property
    def edits(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/images/edits"]

    @property
    def variations(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/images/variations"]

    def _check_inputs(self, path: str, body: dict, files: dict) -> tuple[int, dict, bytes] | None:
        """OpenAI's own checks of uploaded images, as 400s with its messages."""
        json_type = {"Content-Type": "application/json", "x-request-id": "req_fake"}
        images = files.get("image") or files.get("image[]") or []
        if not images:
            return 400, json_type, _error("'image' is a required property", "invalid_request_error", None, "image")
        try:
            image = Image.open(io.BytesIO(images[0]))
        except OSError:
            return 400, json_type, _error("Uploaded image must be a PNG.", "invalid_request_error", None, "image")
        model = body.get("model") or "dall-e-2"
        if model == "dall-e-2" and image.width != image.height:
            message = "Invalid input image - image must be square."
            return 400, json_type, _error(message, "invalid_request_error", None, "image")
        if path.endswith("/edits") and "mask" in files:
            mask = Image.open(io.BytesIO(files["mask"][0]))
            if mask.mode not in ("RGBA", "LA"):
                message = f"Invalid input image - format must be in ['RGBA', 'LA'], got {mask.mode}."
                return 400, json_type, _error(message, "invalid_request_error", None, "mask")
            if mask.size != image.size:
                message = "Invalid mask image: the mask and the image must have the same dimensions."
                return 400, json_type, _error(message, "invalid_request_error", None, "mask")
        return None

    def _check_options(self, body: dict, *, model: str, fmt: str) -> bytes | None:
        """OpenAI's checks of ``background`` and ``output_compression`` (GPT Image only)."""
        background, compression = body.get("background"), body.get("output_compression")
        for name, value in (("background", background), ("output_compression", compression)):
            if value is not None and not model.startswith("gpt-image"):
                return _error(f"Unknown parameter: '{name}'.", "invalid_request_error", "unknown_parameter", name)
        if background is not None and background not in ("transparent", "opaque", "auto"):
            message = f"Invalid value: '{background}'. Supported values are: 'transparent', 'opaque', and 'auto'."
            return _error(message, "invalid_request_error", "invalid_value", "background")
        if background == "transparent" and fmt not in ("png", "webp"):
            message = "Transparent background is not supported for the jpeg output format."
            return _error(message, "invalid_request_error", "invalid_value", "background")
        if compression is not None and not (isinstance(compression, int) and 0 <= compression <= 100):
            message = f"Invalid 'output_compression': {compression!r}. Expected an integer between 0 and 100."
            return _error(message, "invalid_request_error", "invalid_value", "output_compression")
        return None

    def _generate(self, body: dict, *, path: str = "/v1/images/generations", files: dict | None = None):
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
        if failure == "slow":
            time.sleep(self.slow_seconds)
        if path != "/v1/images/generations":
            refused = self._check_inputs(path, body, files or {})
            if refused:
                return refused

        model = body.get("model") or "dall-e-2"
        size = body.get("size") or "1024x1024"
        width, height = (int(part) for part in size.split("x"))
        fmt = body.get("output_format") or "png"
        refused = self._check_options(body, model=model, fmt=fmt)
        if refused:
            return 400, json_type, refused
        if body.get("stream") in (True, "true"):
            if not model.startswith("gpt-image"):
                message = "Streaming is not supported for this model."
                return 400, json_type, _error(message, "invalid_request_error", None, "stream")
            return self._stream(body, path=path, files=files or {}, size=(width, height), failure=failure)
        as_url = (
            self.answer_with_url or not model.startswith("gpt-image") and body.get("response_format", "url") == "url"
        )
        data = []
        for index in range(int(body.get("n") or 1)):
            picture = self._picture((width, height), fmt=fmt, index=index, files=files or {}, path=path, body=body)
            entry = {"b64_json": None, "url": None, "revised_prompt": None}
            if as_url:
                name = f"img-{len(self._files)}.png"
                self._files[name] = picture
                entry["url"] = f"{self.url}/files/{name}"
            else:
                entry["b64_json"] = base64.b64encode(picture).decode()
            if model == "dall-e-3":
                entry["revised_prompt"] = REVISED.format(prompt=body.get("prompt", ""))
            data.append(entry)
        return 200, json_type, json.dumps({"created": int(time.time()), "data": data}).encode()

    def _picture(
        self, size: tuple[int, int], *, fmt: str, index: int, files: dict, path: str, body: dict | None = None
    ) -> bytes:
        """A blue picture, transparent around a centred square with ``background: transparent``;
        JPEG/WebP at the request's ``output_compression`` as their quality."""
        body = body or {}
        width, height = size
        image = Image.new("RGB", (width, height), (40 * index % 256, 120, 200))
        if path == "/v1/images/edits" and "mask" in files:
            # The "edit": the mask's fully transparent pixels come back painted red.
            mask = Image.open(io.BytesIO(files["mask"][0])).getchannel("A").resize((width, height))
            image.paste((255, 0, 0), mask=mask.point(lambda alpha: 255 if alpha == 0 else 0))
        if body.get("background") == "transparent":
            alpha = Image.new("L", (width, height), 0)
            alpha.paste(255, (width // 4, height // 4, width * 3 // 4, height * 3 // 4))
            image.putalpha(alpha)
        options = {}
        if fmt in ("jpeg", "webp") and body.get("output_compression") is not None:
            options["quality"] = int(body["output_compression"])
        buffer = io.BytesIO()
        image.save(buffer, format={"jpeg": "JPEG", "webp": "WEBP"}.get(fmt, "PNG"), **options)
        return buffer.getvalue()

    def _stream(self, body: dict, *, path: str, files: dict, size: tuple[int, int], failure: str | None):
        """The events of a streamed generation or edit, as OpenAI sends them."""
        prefix = "image_edit" if path == "/v1/images/edits" else "image_generation"
        fmt = body.get("output_format") or "png"
        partials = int(body.get("partial_images") or 0)
        common = {
            "background": body.get("background") if body.get("background") in ("transparent", "opaque") else "opaque",
            "output_format": fmt,
            "quality": body.get("quality") or "medium",
            "size": f"{size[0]}x{size[1]}",
        }
        events: list[bytes] = []

        def event(kind: str, data: dict) -> None:
            events.append(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())

        for index in range(int(body.get("n") or 1)):
            final = self._picture(size, fmt=fmt, index=index, files=files, path=path, body=body)
            for partial in range(partials):
                # Coarser the earlier: the final picture seen through fewer and fewer blocks.
                blocks = 4 * (partial + 1)
                picture = Image.open(io.BytesIO(final)).convert("RGB")
                coarse = picture.resize((blocks, blocks)).resize(size, Image.Resampling.NEAREST)
                shade = Image.new("RGB", size, (255, 255, 255))
                coarse = Image.blend(coarse, shade, 0.5 / (partial + 1))
                buffer = io.BytesIO()
                coarse.save(buffer, format={"jpeg": "JPEG", "webp": "WEBP"}.get(fmt, "PNG"))
                data = {
                    "type": f"{prefix}.partial_image",
                    "b64_json": base64.b64encode(buffer.getvalue()).decode(),
                    "created_at": int(time.time()),
                    "partial_image_index": partial,
                    **common,
                }
                event(data["type"], data)
                if failure == "stream_error":
                    error = {"message": "The image could not be generated.", "type": "server_error", "code": None}
                    event("error", {"type": "error", "error": error})
                    return 200, {"Content-Type": "text/event-stream"}, events
                if failure == "stream_cut":
                    return 200, {"Content-Type": "text/event-stream"}, events
            usage = {
                "input_tokens": 50,
                "input_tokens_details": {"image_tokens": 0, "text_tokens": 50},
                "output_tokens": 272,
                "total_tokens": 322,
            }
            data = {
                "type": f"{prefix}.completed",
                "b64_json": base64.b64encode(final).decode(),
                "created_at": int(time.time()),
                "usage": usage,
                **common,
            }
            event(data["type"], data)
        return 200, {"Content-Type": "text/event-stream"}, events

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, headers: dict, payload: bytes | list[bytes]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if isinstance(payload, list):
                    # Events, each sent as it is ready; the body ends when the connection closes.
                    self.end_headers()
                    for event in payload:
                        time.sleep(fake.stream_delay)
                        self.wfile.write(event)
                        self.wfile.flush()
                    return
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                files: dict = {}
                if headers.get("content-type", "").startswith("multipart/form-data"):
                    body, files = _multipart(headers["content-type"], raw)
                else:
                    try:
                        body = json.loads(raw or b"{}")
                    except ValueError:
                        body = {}
                fake.requests.append(
                    RecordedRequest(method="POST", path=self.path, headers=headers, body=body, files=files)
                )
                if self.path not in ("/v1/images/generations", "/v1/images/edits", "/v1/images/variations"):
                    self._send(
                        404, {"Content-Type": "application/json"}, _error("Not found", "invalid_request_error", None)
                    )
                    return
                self._send(*fake._generate(body, path=self.path, files=files))

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


def _multipart(content_type: str, raw: bytes) -> tuple[dict, dict]:
    """Text fields (numbers as ints, as the JSON route would see them) and file parts by name."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict = {}
    files: dict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files.setdefault(name, []).append(payload)
        else:
            text = payload.decode()
            fields[name] = int(text) if text.isdigit() else text
    return fields, files
