"""A webhook receiver on 127.0.0.1: records every request and answers what it is told to."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str

    def verified(self, secret: str):
        """The payload as the receiver's own Standard Webhooks library reads it (raises if forged)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"ok": true}'
    # A request still on the wire while the test goes on: ``reached`` is set when it arrives,
    # and the answer waits until ``hold`` is set.
    reached: threading.Event | None = None
    hold: threading.Event | None = None


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._answers: list[Answer] = []
        self.default = Answer()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                with receiver._lock:
                    receiver.received.append(
                        Received(path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body)
                    )
                    answer = receiver._answers.pop(0) if receiver._answers else receiver.default
                if answer.reached is not None:
                    answer.reached.set()
                if answer.hold is not None:
                    answer.hold.wait(timeout=30)
                payload = answer.body.encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer_next(self, *answers: Answer) -> None:
        with self._lock:
            self._answers.extend(answers)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
