"""Queue positions computed once per move of a queue and pushed to every stream that waits in it.

Whoever moves a queue (a claim, a cancel, a retry) publishes the new positions of the waiting
jobs on the queue's channel when the move commits; the streams take theirs from that message and
read the database only when they open. On Redis and on the local broadcaster alike.
"""

import os
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import pubsub
from generation import event_stream
from generation.events_bus import queue_channel
from generation.models import Generation, Status
from generation.services import generation_cancel, generation_run
from generation.state import transition
from tests.generation.test_pushed_events import Watcher, server  # noqa: F401 - the ASGI server fixture
from tests.helpers import LOCAL_MODEL, sse_frames

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
def bus(request, settings, tmp_path):
    """Redis pub/sub (this run's own database number), or the local broadcaster in a folder
    of this test's own."""
    if request.param == "redis":
        settings.REDIS_URL = os.environ["REDIS_URL"]
    else:
        settings.REDIS_URL = ""
        settings.VAR_DIR = tmp_path
    return request.param


def _queue(user, count: int) -> list[Generation]:
    generations = []
    for index in range(count):
        generation = Generation.objects.create(
            user=user,
            model_id=LOCAL_MODEL,
            provider="local",
            status=Status.PENDING,
            width=64,
            height=64,
            prompt=f"a lighthouse {index}",
            final_prompt=f"a lighthouse {index}",
            seed=index,
        )
        transition(generation_id=generation.pk, to=Status.IN_QUEUE)
        generations.append(generation)
    return generations


class _Stream:
    """A WSGI stream read in the test's thread, one named event at a time (a chunk may hold
    several; comments and the retry line are skipped)."""

    def __init__(self, generation):
        self.chunks = event_stream.generation_event_stream(generation_id=generation.pk)
        self.frames: list[dict] = []

    def next(self) -> dict:
        while not self.frames:
            self.frames = sse_frames(next(self.chunks))
        return self.frames.pop(0)

    def close(self) -> None:
        self.chunks.close()


def _next_frame(stream: _Stream) -> dict:
    return stream.next()


def _open(generation) -> _Stream:
    stream = _Stream(generation)
    assert stream.next()["data"] == {"status": "in_queue"}
    return stream


@pytest.fixture
def position_reads(monkeypatch):
    """Counts the streams' own reads of a queue position."""
    calls = []
    original = event_stream.generation_queue_position

    def counted(*, generation):
        calls.append(generation.pk)
        return original(generation=generation)

    monkeypatch.setattr(event_stream, "generation_queue_position", counted)
    return calls


def test_a_claim_publishes_one_positions_message_and_the_streams_read_nothing(bus, alice, position_reads):
    jobs = _queue(alice.user, 20)
    streams = {job.pk: [_open(job)] for job in jobs}
    for index, job in enumerate(jobs):
        assert _next_frame(streams[job.pk][0])["data"] == {"queue_position": index}
    assert len(position_reads) == 20

    costs = []
    with pubsub.subscribe(queue_channel("local")) as spy:
        for claimed, watchers_per_job in ((0, 1), (1, 3)):
            # More watchers on every job still waiting: the move must cost no more.
            for job in jobs[claimed:]:
                while len(streams[job.pk]) < watchers_per_job:
                    stream = _open(job)
                    _next_frame(stream)  # its position, read as it opens
                    streams[job.pk].append(stream)
            position_reads.clear()
            with CaptureQueriesContext(connection) as claim:
                assert transition(generation_id=jobs[claimed].pk, to=Status.PROCESSING)
            message = spy.get_blocking(10)
            assert message == {"positions": {str(job.pk): i for i, job in enumerate(jobs[claimed + 1 :])}}
            assert spy.get_blocking(0.2) is None, "one message per move"

            with CaptureQueriesContext(connection) as reads:
                for job in jobs[claimed + 1 :]:
                    for stream in streams[job.pk]:
                        expected = jobs.index(job) - claimed - 1
                        assert _next_frame(stream)["data"] == {"queue_position": expected}
                for stream in streams[jobs[claimed].pk]:
                    assert _next_frame(stream)["data"] == {"status": "processing"}
            assert reads.captured_queries == []
            assert position_reads == []
            costs.append(len(claim.captured_queries))
            waiting_reads = [q for q in claim.captured_queries if "ORDER BY" in q["sql"]]
            assert len(waiting_reads) == 1, "the positions are computed once, by the claim"

    assert costs[0] == costs[1], "a move costs the same with 20 or 57 streams waiting"
    for job_streams in streams.values():
        for stream in job_streams:
            stream.close()
    assert pubsub.subscriber_count() == 0


def test_positions_past_the_pushed_limit_wait_until_the_job_moves_into_it(bus, alice, settings):
    settings.ATELIER_QUEUE_POSITIONS_PUSHED = 2
    jobs = _queue(alice.user, 4)
    last = _open(jobs[3])
    assert _next_frame(last)["data"] == {"queue_position": 3}
    with pubsub.subscribe(queue_channel("local")) as spy:
        transition(generation_id=jobs[0].pk, to=Status.PROCESSING)
        assert spy.get_blocking(10) == {"positions": {str(jobs[1].pk): 0, str(jobs[2].pk): 1}}
        generation_cancel(generation=jobs[1])
        assert spy.get_blocking(10) == {"positions": {str(jobs[2].pk): 0, str(jobs[3].pk): 1}}
    # The first message did not name it (no wake-up, no frame); the second one does.
    assert _next_frame(last)["data"] == {"queue_position": 1}
    last.close()


def test_a_job_sent_back_to_its_queue_hears_its_new_place_at_the_end(bus, alice):
    first, second = _queue(alice.user, 2)
    stream = _open(first)
    assert _next_frame(stream)["data"] == {"queue_position": 0}
    transition(generation_id=first.pk, to=Status.PROCESSING)
    assert _next_frame(stream)["data"] == {"status": "processing"}
    # A transient provider error: the worker sends it back, behind the job that waited.
    transition(generation_id=first.pk, to=Status.IN_QUEUE)
    assert _next_frame(stream)["data"] == {"status": "in_queue"}
    assert _next_frame(stream)["data"] == {"queue_position": 1}
    generation_cancel(generation=second)
    assert _next_frame(stream)["data"] == {"queue_position": 0}
    stream.close()


def test_a_position_computed_before_the_stream_opened_does_not_take_it_back(bus, alice):
    jobs = _queue(alice.user, 3)
    stream = _open(jobs[2])
    assert _next_frame(stream)["data"] == {"queue_position": 2}
    # An older message (the queue as it was before the stream read it) arrives late.
    pubsub.publish(channel=queue_channel("local"), message={"positions": {str(jobs[2].pk): 3}})
    transition(generation_id=jobs[0].pk, to=Status.PROCESSING)
    assert _next_frame(stream)["data"] == {"queue_position": 1}
    stream.close()


@pytest.fixture(params=["asgi", "wsgi"])
def served(request):
    """The event stream served by uvicorn (the async stream) or by a threaded WSGI server."""
    if request.param == "asgi":
        return request.getfixturevalue("server")
    return request.getfixturevalue("live_server").url


def test_waiting_streams_follow_the_queue_as_a_worker_drains_it_and_each_ends(bus, served, alice, monkeypatch):
    # Every move is sent (this worker moves the queue faster than positions are paced).
    monkeypatch.setattr(event_stream, "QUEUE_POSITION_MIN_INTERVAL", 0.0)
    jobs = _queue(alice.user, 4)
    watchers = {}
    for index, job in enumerate(jobs):
        watchers[job.pk] = [Watcher(f"{served}/api/generate/{job.pk}/events", alice.secret) for _ in range(2)]
        for watcher in watchers[job.pk]:
            watcher.start()
            assert watcher.next()["data"] == {"status": "in_queue"}
            assert watcher.next()["data"] == {"queue_position": index}

    for job in jobs:
        # The worker's own service: claim, render on the local provider, complete.
        generation_run(generation_id=job.pk)

    for index, job in enumerate(jobs):
        for watcher in watchers[job.pk]:
            assert watcher.ended.wait(15), "every stream ends with its job"
            frames = watcher.drain()
            positions = [f["data"]["queue_position"] for f in frames if f["event"] == "queue_position"]
            statuses = [f["data"]["status"] for f in frames if f["event"] == "status"]
            assert positions == list(range(index - 1, -1, -1))
            assert statuses == ["processing", "completed"]
            assert frames[-1]["data"]["status"] == "completed"
    assert Generation.objects.filter(status=Status.COMPLETED).count() == 4


def test_a_stream_that_fell_behind_the_queue_sends_only_its_newest_position(bus, alice):
    jobs = _queue(alice.user, 4)
    stream = _open(jobs[3])
    assert stream.next()["data"] == {"queue_position": 3}
    with pubsub.subscribe(queue_channel("local")) as spy:
        for job in jobs[:2]:
            transition(generation_id=job.pk, to=Status.PROCESSING)
            spy.get_blocking(10)  # published (and so queued for the stream too)
    assert stream.next()["data"] == {"queue_position": 1}
    assert stream.frames == []
    transition(generation_id=jobs[3].pk, to=Status.CANCELLED)
    assert stream.next()["data"]["status"] == "cancelled"
    stream.close()


def test_a_fast_queue_sends_each_stream_its_newest_position_at_a_steady_pace(bus, alice, monkeypatch):
    monkeypatch.setattr(event_stream, "QUEUE_POSITION_MIN_INTERVAL", 0.3)
    jobs = _queue(alice.user, 5)
    stream = _open(jobs[4])
    assert stream.next()["data"] == {"queue_position": 4}
    with pubsub.subscribe(queue_channel("local")) as spy:
        for job in jobs[:3]:
            transition(generation_id=job.pk, to=Status.PROCESSING)
            spy.get_blocking(10)
        moved_at = time.monotonic()
    # Three moves within the interval: one frame, the newest position, once the interval is over.
    assert stream.next()["data"] == {"queue_position": 1}
    assert stream.frames == []
    assert time.monotonic() - moved_at < 5
    # The end of a job is never paced.
    transition(generation_id=jobs[4].pk, to=Status.CANCELLED)
    assert stream.next()["data"]["status"] == "cancelled"
    stream.close()
