"""The web nodes' ASGI handler (config.asgi) runs a request for a synchronous view as a WSGI server
does, the whole middleware chain and the view in one visit to its request thread, and a request
for an async view on the event loop."""

import io
import threading

import httpx
import pytest
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from tests.helpers import asgi_server_running

pytestmark = pytest.mark.django_db(transaction=True)

SEEN: list[tuple[str, str]] = []


class ThreadRecorder:
    """The first middleware: notes where the chain started."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        SEEN.append(("middleware", threading.current_thread().name))
        return self.get_response(request)

    async def _acall(self, request):
        SEEN.append(("middleware", threading.current_thread().name))
        return await self.get_response(request)


def sync_view(request):
    SEEN.append(("view", threading.current_thread().name))
    return HttpResponse("sync")


async def async_view(request):
    SEEN.append(("view", threading.current_thread().name))
    return HttpResponse("async")


FIRST_CHUNK_READ = threading.Event()
WAITED: list[bool] = []


def slow_stream(request):
    """A synchronous stream whose second part waits until the client has read the first."""

    def parts():
        yield b"a" * 300_000
        WAITED.append(FIRST_CHUNK_READ.wait(10))
        yield b"b" * 1000

    return StreamingHttpResponse(parts())


def download(request):
    return FileResponse(io.BytesIO(bytes(range(256)) * 4096), filename="blob.bin")


urlpatterns = [
    path("sync", sync_view),
    path("async", async_view),
    path("slow", slow_stream),
    path("download", download),
]


@pytest.fixture
def server():
    from config.asgi import ASGIHandler

    middleware = ["tests.ops.test_asgi_handler.ThreadRecorder", *settings.MIDDLEWARE]
    with override_settings(MIDDLEWARE=middleware, ROOT_URLCONF=__name__):
        with asgi_server_running(ASGIHandler()) as url:
            yield url


def test_a_sync_view_and_its_whole_middleware_chain_run_in_one_request_thread(server):
    SEEN.clear()
    response = httpx.get(f"{server}/sync", timeout=10)
    assert response.status_code == 200 and response.text == "sync"
    assert response.headers["X-Request-ID"]
    (_, middleware_thread), (_, view_thread) = SEEN
    assert middleware_thread.startswith("request") and view_thread == middleware_thread


def test_an_async_view_runs_on_the_event_loop_with_the_async_chain(server):
    SEEN.clear()
    response = httpx.get(f"{server}/async", timeout=10)
    assert response.status_code == 200 and response.text == "async"
    assert response.headers["X-Request-ID"]
    (_, middleware_thread), (_, view_thread) = SEEN
    assert not middleware_thread.startswith("request") and view_thread == middleware_thread


def test_a_path_no_view_matches_is_the_sync_chain_404_in_the_envelope(server):
    response = httpx.get(f"{server}/api/none", timeout=10)
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False and body["type"] == "not_found"
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_a_synchronous_stream_is_sent_as_it_is_read_not_read_whole_first(server):
    FIRST_CHUNK_READ.clear()
    WAITED.clear()
    received = b""
    with httpx.stream("GET", f"{server}/slow", timeout=20) as response:
        for chunk in response.iter_bytes():
            received += chunk
            if len(received) >= 300_000:
                FIRST_CHUNK_READ.set()
    assert received == b"a" * 300_000 + b"b" * 1000
    # The client had the first part while the stream was still waiting to make the second
    # (read whole before sending, the stream's wait would have run out first).
    assert WAITED == [True]


def test_a_file_download_arrives_whole_with_its_length(server):
    response = httpx.get(f"{server}/download", timeout=10)
    assert response.status_code == 200
    assert response.content == bytes(range(256)) * 4096
    assert response.headers["Content-Length"] == str(256 * 4096)
    assert "blob.bin" in response.headers["Content-Disposition"]
