"""What every scripted fake provider server shares: a threaded HTTP server on 127.0.0.1, its
URL, start/stop, and a queue of failures to answer next."""

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackFake:
    def __init__(self, *, port: int = 0) -> None:
        self._failures: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _handler(self):
        raise NotImplementedError

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, kind: str, *, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([kind] * times)

    def _next_failure(self) -> str | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None


def post_webhook(url: str, *, body: bytes, headers: dict[str, str]) -> int:
    """Posts a signed webhook as a provider does; the HTTP status, or 0 if nothing answered."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - loopback test server
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback test server
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


class JSONDispatchHandler(BaseHTTPRequestHandler):
    """A quiet handler that sends each GET, POST and PUT to ``_dispatch(method)`` and answers
    JSON (or bytes) with ``_send``, adding the ``_extra_headers`` of the fake."""

    def _dispatch(self, method: str) -> None:
        raise NotImplementedError

    def _send(self, status: int, body, content_type: str = "application/json") -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in self._extra_headers().items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _extra_headers(self) -> dict[str, str]:
        return {}

    def do_GET(self):  # noqa: N802 - the http.server API
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self):  # noqa: N802
        self._dispatch("PUT")

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        pass
