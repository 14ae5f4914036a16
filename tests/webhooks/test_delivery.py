"""Deliveries to a receiver on 127.0.0.1, checked with the Standard Webhooks library as a
receiver would: signatures, retries, Retry-After, 410, redirects, redelivery, rotation, the
URL guard and auto-disable."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.webhooks.conftest import create_endpoint, run_due_deliveries
from tests.webhooks.receiver import Answer
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_event_emit
from webhooks.tasks import deliver_webhook

pytestmark = pytest.mark.django_db


def deliveries(staff, webhook) -> list[dict]:
    response = staff.get(f"/admin/api/webhooks/{webhook['id']}/deliveries")
    assert response.status_code == 200, response.content
    return response.json()["deliveries"]


def send_test(staff, webhook) -> dict:
    response = staff.post(f"/admin/api/webhooks/{webhook['id']}/test")
    assert response.status_code == 202, response.content
    delivery = response.json()["delivery"]
    if WebhookDelivery.objects.get(pk=delivery["id"]).attempts == 0:
        deliver_webhook(delivery["id"])  # tasks not run in process: the worker's first attempt
    return delivery


def test_a_test_event_arrives_signed_and_verifies_with_the_reference_library(staff, receiver):
    webhook = create_endpoint(staff, receiver.url())
    send_test(staff, webhook)
    assert len(receiver.received) == 1
    request = receiver.received[0]
    payload = request.verified(webhook["secret"])
    assert payload["type"] == "webhook.test"
    assert payload["data"]["endpoint_id"] == webhook["id"]
    assert request.headers["webhook-id"].startswith("msg_") and "." not in request.headers["webhook-id"]
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert request.headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(request.body, request.headers)
    [delivery] = deliveries(staff, webhook)
    assert (delivery["status"], delivery["attempts"], delivery["event"]) == ("succeeded", 1, "webhook.test")
    [attempt] = delivery["attempt_log"]
    assert attempt["status_code"] == 200
    assert attempt["response_excerpt"] == '{"ok": true}'
    assert attempt["latency_ms"] >= 0


def test_a_500_is_retried_with_the_same_id_until_it_succeeds(staff, receiver):
    webhook = create_endpoint(staff, receiver.url())
    receiver.answer_next(Answer(500, body="boom"), Answer(503, body="busy"))
    send_test(staff, webhook)
    run_due_deliveries()
    assert len(receiver.received) == 3
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 1
    for request in receiver.received:
        request.verified(webhook["secret"])
    [delivery] = deliveries(staff, webhook)
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 3)
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 503, 200]
    assert delivery["attempt_log"][0]["response_excerpt"] == "boom"


def test_retries_follow_the_schedule_with_jitter(staff, receiver, settings):
    settings.ATELIER_WEBHOOK_RETRY_SCHEDULE = [5, 300]
    settings.ATELIER_WEBHOOK_RETRY_JITTER = 0.2
    receiver.default = Answer(500)
    webhook = create_endpoint(staff, receiver.url())
    before = timezone.now()
    send_test(staff, webhook)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 5 <= wait <= 5 * 1.2 + 2
    # Not due yet: nothing is sent.
    run_due_deliveries()
    assert len(receiver.received) == 1


def test_the_schedule_ends_in_failure(staff, receiver, settings):
    settings.ATELIER_WEBHOOK_RETRY_SCHEDULE = [0, 0]
    receiver.default = Answer(500)
    webhook = create_endpoint(staff, receiver.url())
    send_test(staff, webhook)
    run_due_deliveries()
    [delivery] = deliveries(staff, webhook)
    assert (delivery["status"], delivery["attempts"]) == ("failed", 3)
    assert len(receiver.received) == 3


def test_retry_after_is_honoured(staff, receiver):
    webhook = create_endpoint(staff, receiver.url())
    receiver.answer_next(Answer(429, headers={"Retry-After": "120"}))
    before = timezone.now()
    send_test(staff, webhook)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    assert 119 <= (delivery.next_attempt_at - before).total_seconds() <= 125
    run_due_deliveries()
    assert len(receiver.received) == 1


def test_410_gone_disables_the_endpoint(staff, receiver):
    webhook = create_endpoint(staff, receiver.url(), events=["training.completed"])
    receiver.answer_next(Answer(410))
    send_test(staff, webhook)
    [delivery] = deliveries(staff, webhook)
    assert delivery["status"] == "failed"
    shown = staff.get(f"/admin/api/webhooks/{webhook['id']}").json()["webhook"]
    assert shown["is_active"] is False
    assert "410" in shown["disabled_reason"]
    # Later events skip it.
    assert webhook_event_emit(event="training.completed", payload={"training_id": "t1"}) is None
    run_due_deliveries()
    assert len(receiver.received) == 1


def test_redirects_are_not_followed(staff, receiver):
    webhook = create_endpoint(staff, receiver.url())
    receiver.answer_next(Answer(302, headers={"Location": receiver.url("/elsewhere")}))
    send_test(staff, webhook)
    assert [request.path for request in receiver.received] == ["/hooks"]
    [delivery] = deliveries(staff, webhook)
    assert delivery["attempt_log"][0]["status_code"] == 302
    assert "not followed" in delivery["attempt_log"][0]["error"]
    run_due_deliveries()
    assert [request.path for request in receiver.received] == ["/hooks", "/hooks"]


def test_redeliver_sends_the_same_message_again(staff, receiver):
    webhook = create_endpoint(staff, receiver.url())
    first = send_test(staff, webhook)
    response = staff.post(f"/admin/api/webhooks/{webhook['id']}/deliveries/{first['id']}/redeliver")
    assert response.status_code == 202, response.content
    run_due_deliveries()
    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    assert receiver.received[1].verified(webhook["secret"])["type"] == "webhook.test"
    assert len(deliveries(staff, webhook)) == 2
    missing = f"/admin/api/webhooks/{webhook['id']}/deliveries/00000000-0000-0000-0000-000000000000/redeliver"
    assert staff.post(missing).status_code == 404


def test_rotation_signs_with_old_and_new_secret_for_a_day(staff, receiver):
    webhook = create_endpoint(staff, receiver.url())
    old = webhook["secret"]
    response = staff.post(f"/admin/api/webhooks/{webhook['id']}/rotate-secret")
    assert response.status_code == 200, response.content
    new = response.json()["webhook"]["secret"]
    assert new != old and new.startswith("whsec_")
    expires = response.json()["webhook"]["previous_secret_expires_at"]
    assert timedelta(hours=23) < timezone.datetime.fromisoformat(expires.replace("Z", "+00:00")) - timezone.now()
    send_test(staff, webhook)
    request = receiver.received[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    request.verified(new)
    request.verified(old)  # receivers still holding the old secret keep working


def test_after_the_overlap_only_the_new_secret_signs(staff, receiver, settings):
    settings.ATELIER_WEBHOOK_SECRET_ROTATION_HOURS = 0
    webhook = create_endpoint(staff, receiver.url())
    old = webhook["secret"]
    new = staff.post(f"/admin/api/webhooks/{webhook['id']}/rotate-secret").json()["webhook"]["secret"]
    send_test(staff, webhook)
    request = receiver.received[-1]
    request.verified(new)
    with pytest.raises(WebhookVerificationError):
        request.verified(old)


def test_rotation_to_a_given_secret(staff, receiver):
    webhook = create_endpoint(staff, receiver.url())
    given = "whsec_" + "QkJC" * 8
    response = staff.post(f"/admin/api/webhooks/{webhook['id']}/rotate-secret", {"secret": given}, format="json")
    assert response.json()["webhook"]["secret"] == given


def test_repeated_failures_disable_the_endpoint_and_alert_staff(staff, receiver, settings):
    settings.ATELIER_WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.ATELIER_WEBHOOK_RETRY_SCHEDULE = [0] * 10
    receiver.default = Answer(500)
    webhook = create_endpoint(staff, receiver.url(), events=["training.completed"])
    webhook_event_emit(event="training.completed", payload={"training_id": "t1"})
    run_due_deliveries()
    assert len(receiver.received) == 3
    shown = staff.get(f"/admin/api/webhooks/{webhook['id']}").json()["webhook"]
    assert shown["is_active"] is False
    assert "3 delivery attempts in a row failed" in shown["disabled_reason"]
    [alert] = mail.outbox
    assert alert.to == ["staff@example.com"]
    assert receiver.url() in alert.subject
    # Enabled again by staff, it receives the next event.
    receiver.default = Answer(200)
    staff.patch(f"/admin/api/webhooks/{webhook['id']}", {"is_active": True}, format="json")
    webhook_event_emit(event="training.completed", payload={"training_id": "t2"})
    run_due_deliveries()
    assert receiver.received[-1].verified(webhook["secret"])["data"] == {"training_id": "t2"}


def test_a_target_that_turns_private_is_refused_at_delivery(staff, receiver, settings):
    webhook = create_endpoint(staff, receiver.url())
    settings.ATELIER_URL_FETCH_ALLOWED_HOSTS = []  # 127.0.0.1 is loopback: refused by the guard
    send_test(staff, webhook)
    assert receiver.received == []
    [delivery] = deliveries(staff, webhook)
    assert delivery["status"] == "failed"
    assert "loopback" in delivery["attempt_log"][0]["error"]


def test_events_go_only_to_endpoints_subscribed_to_them(staff, receiver):
    subscribed = create_endpoint(staff, receiver.url("/a"), events=["training.completed"])
    create_endpoint(staff, receiver.url("/b"), events=["credits.low"])
    everything = create_endpoint(staff, receiver.url("/c"))
    webhook_event_emit(event="training.completed", payload={"user_id": 1, "training_id": "t", "model_url": "/x"})
    run_due_deliveries()
    assert sorted(request.path for request in receiver.received) == ["/a", "/c"]
    by_path = {request.path: request for request in receiver.received}
    assert by_path["/a"].verified(subscribed["secret"])["data"]["training_id"] == "t"
    assert by_path["/c"].verified(everything["secret"])["type"] == "training.completed"
