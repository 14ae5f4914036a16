"""Live events on the web nodes' own ASGI application (config.asgi, under uvicorn in a thread of
the test process): an open stream holds no thread, and the threads that run requests' sync parts
serve one request after another."""

import threading

import httpx
import pytest

from generation.models import Status
from generation.state import transition
from tests.generation.test_pushed_events import _queued, _watch
from tests.helpers import asgi_server_running

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server():
    from config.asgi import application

    with asgi_server_running(application) as url:
        yield url


def _request_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith("request")}


def test_open_streams_hold_no_thread_and_still_hear_their_end(server, alice):
    auth = {"Authorization": f"Bearer {alice.secret}"}
    generations = [_queued(alice.user) for _ in range(5)]
    assert httpx.get(f"{server}/api/generate", headers=auth, timeout=10).status_code == 200
    before = _request_threads()

    watchers = [_watch(server, alice, generation) for generation in generations]
    for watcher in watchers:
        assert watcher.next()["data"] == {"status": "in_queue"}
    # Each stream gave its thread back once it answered: the next one was served by the same.
    assert len(_request_threads() - before) <= 1
    listed = httpx.get(f"{server}/api/generate", headers=auth, timeout=10)
    assert listed.status_code == 200 and listed.headers["X-Request-ID"]

    for generation in generations:
        transition(generation_id=generation.pk, to=Status.CANCELLED)
    for watcher in watchers:
        assert watcher.ended.wait(10)
        assert watcher.status_code == 200
        assert [frame["data"].get("status") for frame in watcher.drain()][-1] == "cancelled"


def test_a_refused_stream_is_answered_in_the_envelope(server, alice, bob):
    generation = _queued(alice.user)
    response = httpx.get(
        f"{server}/api/generate/{generation.pk}/events", headers={"Authorization": f"Bearer {bob.secret}"}, timeout=10
    )
    assert response.status_code == 404
    body = response.json()
    assert body["type"] == "not_found" and body["request_id"] == response.headers["X-Request-ID"]
