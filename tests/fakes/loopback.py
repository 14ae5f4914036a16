"""What every scripted fake provider server shares: a threaded HTTP server on 127.0.0.1, its
URL, start/stop, and a queue of failures to answer next."""

import threading
from http.server import ThreadingHTTPServer


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
