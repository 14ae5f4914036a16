"""Deliveries through a real Celery worker on Redis: retries are delayed messages."""

import pytest

from tests.webhooks.conftest import create_endpoint
from tests.webhooks.receiver import Answer
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(settings):
    import redis
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    app.conf.task_always_eager = False
    try:
        with start_worker(
            app, pool="threads", concurrency=2, perform_ping_check=False, queues=["default"], loglevel="WARNING"
        ):
            yield
    finally:
        app.conf.task_always_eager = True


def test_a_worker_retries_a_failing_delivery_until_it_succeeds(staff, receiver, worker, settings):
    from tests.helpers import wait_until

    settings.ATELIER_WEBHOOK_RETRY_SCHEDULE = [0.2, 0.5]
    receiver.answer_next(Answer(500), Answer(502))
    webhook = create_endpoint(staff, receiver.url())
    assert staff.post(f"/admin/api/webhooks/{webhook['id']}/test").status_code == 202
    delivery = wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded").first(), timeout=30)
    assert delivery.attempts == 3
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.message_id] * 3
    for request in receiver.received:
        request.verified(webhook["secret"])
