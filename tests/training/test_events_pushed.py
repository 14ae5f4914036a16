"""A training's live events are pushed, on ASGI (the web nodes' own application, under uvicorn in
a thread of the test process) and on WSGI alike: a stream reads the database when it opens or
resumes, never while it waits, and an open stream on ASGI holds no thread.

The jobs stay queued (``held_tasks``); the test moves them with the services a worker calls, each
committing on its own, and watchers read the streams over HTTP.
"""

import threading

import httpx
import pytest

from tests.generation.test_event_stream_asgi import _request_threads, server  # noqa: F401 - the ASGI server
from tests.generation.test_pushed_events import Watcher, queries  # noqa: F401 - the query counter
from tests.helpers import sse_frames, wait_until
from tests.training.factories import image_files, start, upload
from training.models import Status, TrainingEvent
from training.state import claim, record, transition

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(alice, held_tasks):
    dataset = upload(alice, image_files(3))

    def make() -> str:
        response = start(alice, dataset, steps=40)
        assert response.status_code == 201, response.content
        return response.json()["training_id"]

    return make


def _running(job_id) -> str:
    lease = claim(job_id=job_id)
    assert lease and transition(job_id=job_id, to=Status.TRAINING, holder=lease, log="Preprocessed 3 images")
    return lease


def _progress(job_id, lease: str, step: int) -> bool:
    event = {"type": TrainingEvent.Type.PROGRESS, "progress": step * 100 // 40, "current_step": step, "loss": 1 / step}
    return record(job_id=job_id, lease=lease, log=f"Step {step}/40", event=event, current_step=step)


def _finish(job_id, lease: str) -> None:
    assert transition(job_id=job_id, to=Status.UPLOADING, holder=lease, log="Saving the trained adapter")
    assert transition(job_id=job_id, to=Status.COMPLETED, holder=lease, progress=100, current_step=40)


def _watch(server, alice, job_id, **kwargs) -> Watcher:  # noqa: F811 - the fixture's value
    watcher = Watcher(f"{server}/api/training/{job_id}/events", alice.secret, **kwargs)
    watcher.start()
    assert watcher.connected.wait(10)
    return watcher


def test_an_idle_training_stream_runs_no_database_query(server, alice, queued, queries, monkeypatch):  # noqa: F811
    from training import event_stream

    # A stream writes a keep-alive each time it wakes up with nothing to send.
    monkeypatch.setattr(event_stream, "HEARTBEAT_SECONDS", 0.1)
    jobs = [queued() for _ in range(3)]
    leases = [_running(job_id) for job_id in jobs]
    watchers = [_watch(server, alice, job_id) for job_id in jobs]
    for watcher in watchers:
        frames = [watcher.next() for _ in range(5)]
        assert [f["data"]["status"] for f in frames if f["event"] == "status"] == [
            "queued",
            "preprocessing",
            "training",
        ]
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

    # Still listening: a report reaches its watcher at once, and only its watcher.
    for watcher in watchers:
        watcher.drain()
    assert _progress(jobs[1], leases[1], 20)
    log, progress = watchers[1].next(), watchers[1].next()
    assert (log["event"], log["data"]["message"]) == ("log", "Step 20/40")
    assert (progress["event"], progress["data"]) == ("progress", {"progress": 50, "current_step": 20, "loss": 0.05})
    assert all(watcher.frames.empty() for i, watcher in enumerate(watchers) if i != 1)
    for job_id, lease in zip(jobs, leases, strict=True):
        _finish(job_id, lease)
    for watcher in watchers:
        assert watcher.ended.wait(10)


def test_open_training_streams_hold_no_thread_and_follow_their_job_to_its_end(server, alice, queued):  # noqa: F811
    jobs = [queued() for _ in range(4)]
    auth = {"Authorization": f"Bearer {alice.secret}"}
    assert httpx.get(f"{server}/api/training", headers=auth, timeout=10).status_code == 200
    before = _request_threads()
    watchers = [_watch(server, alice, job_id) for job_id in jobs]
    for watcher in watchers:
        assert watcher.next()["data"] == {"status": "queued"}
    # Each stream gave its thread back once it answered: the next one was served by the same.
    assert len(_request_threads() - before) <= 1

    for job_id in jobs:
        lease = _running(job_id)
        for step in (10, 20, 30, 40):
            assert _progress(job_id, lease, step)
        _finish(job_id, lease)
    for watcher in watchers:
        assert watcher.ended.wait(10), "the stream goes on after the terminal status"
        assert watcher.status_code == 200
        frames = watcher.drain()
        statuses = [f["data"]["status"] for f in frames if f["event"] == "status"]
        assert statuses == ["preprocessing", "training", "uploading", "completed"]
        assert [f["data"]["current_step"] for f in frames if f["event"] == "progress"] == [10, 20, 30, 40]
        ids = [f["id"] for f in frames]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_a_reconnecting_training_watcher_resumes_after_its_last_event_id(server, alice, queued):  # noqa: F811
    job_id = queued()
    lease = _running(job_id)
    for step in (10, 20):
        _progress(job_id, lease, step)
    ids = list(TrainingEvent.objects.filter(job_id=job_id).values_list("pk", flat=True))
    middle = ids[len(ids) // 2]

    watcher = _watch(server, alice, job_id, last_event_id=middle)
    replayed = [watcher.next() for _ in ids if _ > middle]
    assert [frame["id"] for frame in replayed] == [i for i in ids if i > middle]
    _finish(job_id, lease)
    assert watcher.ended.wait(10)
    rest = watcher.drain()
    assert [f["data"].get("status") for f in rest] == [None, "uploading", "completed"]
    assert all(frame["id"] > ids[-1] for frame in rest)


def test_the_wsgi_training_stream_is_pushed_and_idle_without_queries(alice, queued, queries, monkeypatch):  # noqa: F811
    from django.test import Client

    from training import event_stream

    monkeypatch.setattr(event_stream, "HEARTBEAT_SECONDS", 0.1)
    job_id = queued()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {alice.secret}")
    response = client.get(f"/api/training/{job_id}/events", HTTP_ACCEPT="text/event-stream")
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"retry:")
    assert sse_frames(next(chunks).decode())[0]["data"] == {"status": "queued"}
    assert next(chunks) == b": keep-alive\n\n"
    queries.clear()
    assert [next(chunks) for _ in range(3)] == [b": keep-alive\n\n"] * 3
    assert queries == []

    def finish():
        lease = _running(job_id)
        _progress(job_id, lease, 40)
        _finish(job_id, lease)

    threading.Thread(target=finish).start()
    frames = sse_frames(b"".join(chunks).decode())
    statuses = [f["data"]["status"] for f in frames if f["event"] == "status"]
    assert statuses == ["preprocessing", "training", "uploading", "completed"]
    assert [f["data"]["current_step"] for f in frames if f["event"] == "progress"] == [40]
