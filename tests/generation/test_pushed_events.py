"""Live events pushed to streams served on ASGI (uvicorn), as in production.

The server runs in a thread of the test process on 127.0.0.1; the changes are made by the same
services a worker calls, each committing on its own, and a watcher reads the stream over HTTP.
"""

import json
import queue
import threading
import time
from contextlib import ExitStack

import httpx
import pytest
from django.db import connections
from django.db.backends.signals import connection_created

from core import pubsub
from generation.models import Generation, GenerationEvent, Status
from generation.services.events import generation_record_queue_position, generation_record_step
from generation.state import transition
from tests.helpers import LOCAL_MODEL, asgi_server_running, assert_envelope, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server():
    with asgi_server_running() as url:
        yield url


class Watcher(threading.Thread):
    """Reads one event stream and keeps each frame with the moment it arrived."""

    def __init__(self, url: str, secret: str, last_event_id: int | None = None):
        super().__init__(daemon=True)
        self.url, self.headers = url, {"Authorization": f"Bearer {secret}"}
        if last_event_id is not None:
            self.headers["Last-Event-ID"] = str(last_event_id)
        self.frames: queue.Queue = queue.Queue()
        self.comments: list[str] = []
        self.status_code: int | None = None
        self.connected = threading.Event()
        self.ended = threading.Event()

    def run(self):
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=30) as response:
                self.status_code = response.status_code
                block: dict = {}
                for line in response.iter_lines():
                    if line.startswith("retry:"):
                        self.connected.set()
                    elif line.startswith(":"):
                        self.comments.append(line)
                    elif line == "" and "event" in block:
                        frame = {"event": block["event"], "data": json.loads(block["data"]), "at": time.monotonic()}
                        if "id" in block:
                            frame["id"] = int(block["id"])
                        self.frames.put(frame)
                        block = {}
                    elif ": " in line:
                        key, value = line.split(": ", 1)
                        block[key] = value
        finally:
            self.connected.set()
            self.ended.set()

    def next(self, timeout: float = 10.0) -> dict:
        return self.frames.get(timeout=timeout)

    def drain(self) -> list[dict]:
        frames = []
        while not self.frames.empty():
            frames.append(self.frames.get_nowait())
        return frames


def _queued(user) -> Generation:
    generation = Generation.objects.create(
        user=user, model_id=LOCAL_MODEL, provider="local", status=Status.PENDING, width=64, height=64
    )
    transition(generation_id=generation.pk, to=Status.IN_QUEUE)
    return generation


def _watch(server, alice, generation, **kwargs) -> Watcher:
    watcher = Watcher(f"{server}/api/generate/{generation.pk}/events", alice.secret, **kwargs)
    watcher.start()
    assert watcher.connected.wait(10)
    return watcher


@pytest.fixture
def queries():
    """Counts the SQL statements any thread of this process runs, through Django's database
    instrumentation: an execute wrapper on this thread's connections and on every connection a
    thread opens from now on (the server's threads open theirs when they first read)."""
    counted: list[str] = []
    instrumented: list = []
    wrappers = ExitStack()
    lock = threading.Lock()

    def count(execute, sql, params, many, context):
        counted.append(sql)
        return execute(sql, params, many, context)

    def instrument(connection, **kwargs):
        with lock:
            # A thread's connection object stays when it closes and opens again: wrap it once.
            if not any(seen is connection for seen in instrumented):
                instrumented.append(connection)
                wrappers.enter_context(connection.execute_wrapper(count))

    for connection in connections.all(initialized_only=True):
        instrument(connection)
    connection_created.connect(instrument, weak=False)
    yield counted
    connection_created.disconnect(instrument)
    wrappers.close()


def test_a_watcher_hears_each_change_when_it_commits_and_the_stream_ends_with_the_job(server, alice):
    generation = _queued(alice.user)
    watcher = _watch(server, alice, generation)
    first = watcher.next()
    assert (first["event"], first["data"]) == ("status", {"status": "in_queue"})
    assert watcher.next()["data"] == {"queue_position": 0}

    transition(generation_id=generation.pk, to=Status.PROCESSING)
    assert watcher.next()["data"] == {"status": "processing"}
    generation_record_step(generation_id=generation.pk, percent=40, message="Denoising")
    progress, log = watcher.next(), watcher.next()
    assert (progress["event"], progress["data"]) == ("progress", {"progress": 40})
    assert (log["event"], log["data"]["message"]) == ("log", "Denoising")
    generation_record_queue_position(generation_id=generation.pk, position=3)
    assert watcher.next()["data"] == {"queue_position": 3}
    transition(generation_id=generation.pk, to=Status.COMPLETED, progress=100)
    assert watcher.next()["data"] == {"status": "completed", "progress": 100}

    assert watcher.ended.wait(10), "the stream goes on after the terminal status"
    stored = list(GenerationEvent.objects.filter(generation=generation).values_list("pk", flat=True))
    assert watcher.status_code == 200
    assert stored == sorted(stored)
    wait_until(lambda: pubsub.subscriber_count() == 0, timeout=10)


def test_an_idle_stream_runs_no_database_query(server, alice, queries, monkeypatch):
    from generation import event_stream

    # A stream writes a keep-alive each time it wakes up with nothing to send.
    monkeypatch.setattr(event_stream, "HEARTBEAT_SECONDS", 0.1)
    generations = [_queued(alice.user) for _ in range(5)]
    for generation in generations:
        transition(generation_id=generation.pk, to=Status.PROCESSING)
    watchers = [_watch(server, alice, generation) for generation in generations]
    for watcher in watchers:
        assert watcher.next()["data"] == {"status": "in_queue"}
        assert watcher.next()["data"] == {"status": "processing"}
    # Past its first keep-alive, a stream has done its opening reads and waits for news.
    wait_until(lambda: all(watcher.comments for watcher in watchers), timeout=10, message="a stream sent no keep-alive")

    queries.clear()
    beats = [len(watcher.comments) for watcher in watchers]
    wait_until(
        lambda: all(len(watcher.comments) >= beat + 3 for watcher, beat in zip(watchers, beats, strict=True)),
        timeout=10,
        message="the idle streams did not wake up three times each",
    )
    assert queries == []

    # Still listening: a change reaches its watcher at once.
    generation_record_step(generation_id=generations[2].pk, percent=70, message="Almost")
    assert watchers[2].next()["data"] == {"progress": 70}
    assert all(watcher.frames.empty() for i, watcher in enumerate(watchers) if i != 2)
    for generation in generations:
        transition(generation_id=generation.pk, to=Status.CANCELLED)


def test_a_reconnecting_watcher_resumes_after_its_last_event_id(server, alice):
    generation = _queued(alice.user)
    transition(generation_id=generation.pk, to=Status.PROCESSING)
    for percent in (25, 50, 75):
        generation_record_step(generation_id=generation.pk, percent=percent, message=f"At {percent}")
    ids = list(GenerationEvent.objects.filter(generation=generation).values_list("pk", flat=True))
    middle = ids[len(ids) // 2]

    watcher = _watch(server, alice, generation, last_event_id=middle)
    replayed = [watcher.next() for _ in ids if _ > middle]
    assert [frame["id"] for frame in replayed] == [i for i in ids if i > middle]
    transition(generation_id=generation.pk, to=Status.FAILED, error="Provider went away")
    final = watcher.next()
    assert final["data"]["status"] == "failed" and final["id"] > ids[-1]
    assert watcher.ended.wait(10)
    assert watcher.drain() == []


def test_queued_watchers_hear_their_position_move_when_a_job_ahead_leaves(server, alice):
    first, second = _queued(alice.user), _queued(alice.user)
    watcher = _watch(server, alice, second)
    assert watcher.next()["data"] == {"status": "in_queue"}
    assert watcher.next()["data"] == {"queue_position": 1}

    transition(generation_id=first.pk, to=Status.PROCESSING)
    assert watcher.next(timeout=5)["data"] == {"queue_position": 0}
    transition(generation_id=second.pk, to=Status.CANCELLED)
    assert watcher.next()["data"]["status"] == "cancelled"


def test_a_finished_job_streams_its_events_and_closes(server, alice):
    generation = _queued(alice.user)
    transition(generation_id=generation.pk, to=Status.PROCESSING)
    transition(generation_id=generation.pk, to=Status.COMPLETED)
    watcher = _watch(server, alice, generation)
    assert watcher.ended.wait(10)
    assert [frame["data"]["status"] for frame in watcher.drain()] == ["in_queue", "processing", "completed"]


def test_another_users_stream_and_a_bad_last_event_id_are_refused_in_the_envelope(server, alice, bob):
    generation = _queued(alice.user)
    url = f"{server}/api/generate/{generation.pk}/events"
    for client, headers, code, error_type in [
        (bob, {}, 404, "not_found"),
        (alice, {"Last-Event-ID": "yesterday"}, 400, "validation_error"),
    ]:
        response = httpx.get(url, headers={"Authorization": f"Bearer {client.secret}", **headers}, timeout=10)
        assert response.status_code == code
        body = response.json()
        assert body["success"] is False and body["type"] == error_type
    anonymous = httpx.get(url, timeout=10)
    assert anonymous.status_code in (401, 403)


def test_a_heartbeat_keeps_an_idle_stream_open(server, alice, monkeypatch):
    from generation import event_stream

    monkeypatch.setattr(event_stream, "HEARTBEAT_SECONDS", 0.2)
    generation = _queued(alice.user)
    watcher = _watch(server, alice, generation)
    wait_until(lambda: len(watcher.comments) >= 2, timeout=5)
    assert watcher.comments[0] == ": keep-alive"
    transition(generation_id=generation.pk, to=Status.CANCELLED)
    assert watcher.ended.wait(10)


def test_the_wsgi_stream_is_pushed_too(alice):
    """Under WSGI (the development server) the same feed waits on its subscription."""
    generation = _queued(alice.user)
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {alice.secret}")
    response = client.get(f"/api/generate/{generation.pk}/events")
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"retry:")
    assert b'"status":"in_queue"' in next(chunks)
    assert b"queue_position" in next(chunks)

    def finish():
        transition(generation_id=generation.pk, to=Status.PROCESSING)
        generation_record_step(generation_id=generation.pk, percent=60, message="Halfway")
        transition(generation_id=generation.pk, to=Status.COMPLETED)

    threading.Thread(target=finish).start()
    rest = b"".join(chunks).decode()
    assert rest.index('"status":"processing"') < rest.index('"progress":60') < rest.index('"status":"completed"')


def test_bob_gets_a_404_for_alices_stream_under_wsgi(alice, bob):
    generation = _queued(alice.user)
    assert_envelope(bob.get(f"/api/generate/{generation.pk}/events"), 404, "not_found")


def test_a_client_that_goes_away_leaves_no_subscription_behind(server, alice):
    import socket

    host, port = server.removeprefix("http://").split(":")
    sockets = []
    for generation in [_queued(alice.user) for _ in range(3)]:
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(
            f"GET /api/generate/{generation.pk}/events HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {alice.secret}\r\n\r\n".encode()
        )
        received = b""
        while b"retry:" not in received:
            received += sock.recv(4096)
        sockets.append(sock)
    wait_until(lambda: pubsub.subscriber_count() == 3, timeout=10)
    for sock in sockets:
        sock.close()
    wait_until(lambda: pubsub.subscriber_count() == 0, timeout=10)
