"""A delivery's outcome is written only by the worker that still holds its claim: a worker whose
lease ran out while its request was on the wire writes nothing over the worker that claimed the
delivery after it."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tests.webhooks.receiver import Answer
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
from webhooks.services import CLAIM_LEASE, delivery_attempt, endpoint_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _pending_delivery(url: str) -> WebhookDelivery:
    # Made by hand rather than emitted, so that no on-commit send races the two workers below.
    endpoint = endpoint_create(url=url, events=[])
    message = WebhookMessage.objects.create(id="msg_claims", event="webhook.test", body='{"type":"webhook.test"}')
    return WebhookDelivery.objects.create(
        message=message, endpoint=endpoint, url=endpoint.url, next_attempt_at=timezone.now()
    )


def test_a_late_outcome_of_a_lost_claim_does_not_overwrite_the_next_workers(receiver, settings):
    settings.ATELIER_WEBHOOK_RETRY_SCHEDULE = []  # the first worker's 500 would end the delivery as failed
    delivery = _pending_delivery(receiver.url())
    reached, release = threading.Event(), threading.Event()
    receiver.answer_next(Answer(500, body="late", reached=reached, hold=release), Answer(200))
    first: list = []

    def first_worker():
        try:
            first.append(delivery_attempt(delivery_id=delivery.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=first_worker)
    thread.start()
    assert reached.wait(timeout=10), "the first worker's request never arrived"

    # The first worker's lease runs out while its request is on the wire; a second worker claims
    # the delivery (as the sweep hands it on), sends it, and it is delivered.
    lease = CLAIM_LEASE + timedelta(seconds=settings.ATELIER_WEBHOOK_TIMEOUT_SECONDS)
    with time_machine.travel(timezone.now() + lease + timedelta(seconds=1), tick=True):
        second = delivery_attempt(delivery_id=delivery.pk)
        release.set()
        thread.join(timeout=30)

    assert not thread.is_alive()
    assert (first, second) == ([None], "succeeded")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert delivery.claim_token is None and delivery.next_attempt_at is None
    assert [attempt.status_code for attempt in delivery.attempt_log.all()] == [200]
    assert WebhookEndpoint.objects.get().consecutive_failures == 0
    assert len(receiver.received) == 2  # both requests were sent: receivers dedupe on webhook-id
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]


def test_a_claim_is_spent_by_its_outcome(receiver):
    delivery = _pending_delivery(receiver.url())
    receiver.answer_next(Answer(503))
    assert delivery_attempt(delivery_id=delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert delivery.claim_token is None and delivery.attempts == 1
    # The retry is due (schedule of zeros): the next claim is a new one, and it delivers.
    assert delivery_attempt(delivery_id=delivery.pk) == "succeeded"
    assert delivery_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
