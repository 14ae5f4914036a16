"""Fake Anthropic (Messages API) and OpenAI (Chat Completions) servers on 127.0.0.1.

Each records the requests it gets and answers with ``reply`` text, or with an error status or a
malformed body when told to. Point the SDKs at ``server.base_url`` through the settings.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _FakeChatServer:
    path = ""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.reply = "A fake enhanced prompt"
        self.status = 200
        self.malformed = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "_FakeChatServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, body: dict) -> dict:
        raise NotImplementedError

    def error(self, status: int) -> dict:
        raise NotImplementedError

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(
                    {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "json": body}
                )
                if self.path != fake.path:
                    status, payload = 404, {"error": {"type": "not_found_error", "message": "no such route"}}
                elif fake.status != 200:
                    status, payload = fake.status, fake.error(fake.status)
                else:
                    status, payload = 200, fake.answer(body)
                data = b"{not json" if fake.malformed else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


class FakeAnthropic(_FakeChatServer):
    path = "/v1/messages"

    def answer(self, body: dict) -> dict:
        return {
            "id": f"msg_fake_{len(self.requests)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-fake"),
            "content": [{"type": "text", "text": self.reply}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 42, "output_tokens": 24},
        }

    def error(self, status: int) -> dict:
        kind = {401: "authentication_error", 429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": f"fake error {status}"}}


class FakeOpenAI(_FakeChatServer):
    path = "/v1/chat/completions"

    @property
    def base_url(self) -> str:
        return super().base_url + "/v1"

    def answer(self, body: dict) -> dict:
        return {
            "id": f"chatcmpl-fake{len(self.requests)}",
            "object": "chat.completion",
            "created": 1767225600,
            "model": body.get("model", "gpt-fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.reply, "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 42, "completion_tokens": 24, "total_tokens": 66},
        }

    def error(self, status: int) -> dict:
        return {"error": {"message": f"fake error {status}", "type": "server_error", "param": None, "code": None}}
