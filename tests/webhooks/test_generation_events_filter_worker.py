"""Paced generation events through a real Celery worker on Redis: a message that waits for its
interval goes by itself, as a delayed task, with no terminal event and no sweep to push it."""

import pytest

from generation.models import Status
from generation.services.events import generation_record_log
from generation.state import transition
from tests.helpers import generate, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(settings):
    """Task messages go to Redis; no worker takes them until the test starts one."""
    import redis

    from config.celery import app

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    app.conf.task_always_eager = False
    yield redis.Redis.from_url(settings.REDIS_URL)
    app.conf.task_always_eager = True
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def _log_lines(receiver, secret: str) -> list[list[str]]:
    events = [request.verified(secret) for request in receiver.received]
    return [[line["message"] for line in event["data"]["lines"]] for event in events if event["type"] == "image.log"]


def test_a_waiting_log_message_is_sent_by_the_worker_when_its_interval_runs_out(alice, receiver, broker, settings):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    settings.ATELIER_WEBHOOK_EVENT_MIN_INTERVAL_MS = 300
    secret = alice.get("/api/user/webhook-secret").json()["webhook_secret"]["secret"]
    response = generate(alice, width=64, height=64, webhook_url=receiver.url("/mine"), webhook_events_filter=["logs"])
    generation_id = response.json()["generation"]["id"]
    broker.flushdb()  # this test is the provider: no worker runs the job itself
    assert transition(generation_id=generation_id, to=Status.PROCESSING)

    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, queues=["default"], loglevel="WARNING"
    ):
        for n in range(1, 5):
            generation_record_log(generation_id=generation_id, message=f"step {n}")
        wait_until(lambda: len(_log_lines(receiver, secret)) == 2, timeout=30)

    assert _log_lines(receiver, secret) == [["step 1"], ["step 2", "step 3", "step 4"]]
