"""The platform's events reach subscribed endpoints: user.registered, credits.low,
training.completed, image.generated (and a generation's own webhook_url)."""

import pytest
from django.test import Client as BrowserClient

from tests.helpers import assert_envelope, generate, signed_in
from tests.webhooks.conftest import create_endpoint, run_due_deliveries
from webhooks.services import webhook_event_emit

pytestmark = pytest.mark.django_db


def test_a_sign_up_sends_user_registered(staff, receiver):
    webhook = create_endpoint(staff, receiver.url(), events=["user.registered"])
    response = BrowserClient().post(
        "/accounts/signup/",
        {"email": "carol@example.com", "password1": "a long passphrase 42", "password2": "a long passphrase 42"},
    )
    assert response.status_code in (200, 302), response.content
    run_due_deliveries()
    [request] = receiver.received
    payload = request.verified(webhook["secret"])
    assert payload["type"] == "user.registered"
    assert payload["data"]["email"] == "carol@example.com"
    assert set(payload["data"]) >= {"user_id", "username", "email"}


def test_a_balance_falling_under_the_threshold_sends_credits_low(staff, alice, receiver, settings):
    settings.ATELIER_CREDITS_LOW_THRESHOLD = 10
    webhook = create_endpoint(staff, receiver.url(), events=["credits.low"])
    adjusted = staff.post(
        f"/admin/api/users/{alice.user.pk}/credits", {"action": "set", "amount": 10, "reason": "test"}, format="json"
    )
    assert adjusted.status_code == 200
    assert generate(alice).status_code == 201
    run_due_deliveries()
    [request] = receiver.received
    payload = request.verified(webhook["secret"])
    assert payload["type"] == "credits.low"
    remaining = alice.get("/api/credits").json()["credits"]["remaining"]
    assert payload["data"]["user_id"] == alice.user.pk
    assert payload["data"]["credits_remaining"] == remaining < 10


def test_training_completed_is_emitted_by_the_function_other_apps_call(staff, receiver):
    webhook = create_endpoint(staff, receiver.url(), events=["training.completed"])
    webhook_event_emit(
        event="training.completed", payload={"user_id": 1, "training_id": "tr_1", "model_url": "/loras/1"}
    )
    run_due_deliveries()
    payload = receiver.received[0].verified(webhook["secret"])
    assert payload == {
        "type": "training.completed",
        "timestamp": payload["timestamp"],
        "data": {"user_id": 1, "training_id": "tr_1", "model_url": "/loras/1"},
    }


def test_an_unknown_event_is_a_programming_error():
    with pytest.raises(ValueError):
        webhook_event_emit(event="image.deleted", payload={})


def test_each_user_has_a_secret_to_see_and_rotate(alice, bob):
    mine = alice.get("/api/user/webhook-secret").json()["webhook_secret"]["secret"]
    assert mine.startswith("whsec_")
    assert bob.get("/api/user/webhook-secret").json()["webhook_secret"]["secret"] != mine
    rotated = alice.post("/api/user/webhook-secret/rotate").json()["webhook_secret"]
    assert rotated["secret"] != mine and rotated["previous_secret_expires_at"]


def test_the_account_page_shows_the_users_secret_and_rotates_it(alice):
    browser = signed_in(alice.user)
    secret = alice.get("/api/user/webhook-secret").json()["webhook_secret"]["secret"]
    page = browser.get("/account")
    assert page.status_code == 200
    assert secret in page.content.decode()
    assert browser.post("/account/webhook-secret/rotate").status_code == 302
    assert secret not in browser.get("/account").content.decode()


def test_the_user_secret_needs_a_signed_in_user(anon):
    assert_envelope(anon.get("/api/user/webhook-secret"), 401)


def test_an_unhandled_error_sends_system_error(staff, receiver, rf):
    from django.core.signals import got_request_exception

    webhook = create_endpoint(staff, receiver.url(), events=["system.error"])
    request = rf.get("/somewhere")
    try:
        raise RuntimeError("disk full")
    except RuntimeError:
        # What Django's request handler does with an exception no view handled.
        got_request_exception.send(sender=None, request=request)
    run_due_deliveries()
    data = receiver.received[0].verified(webhook["secret"])["data"]
    assert (data["error_type"], data["message"], data["path"]) == ("RuntimeError", "disk full", "/somewhere")
    assert data["timestamp"].endswith("Z")


def test_a_failed_task_sends_system_error_but_a_failed_delivery_does_not(staff, receiver):
    from celery.signals import task_failure

    from webhooks.tasks import deliver_webhook

    webhook = create_endpoint(staff, receiver.url(), events=["system.error"])

    class Task:
        name = "credits.refill_monthly"

    task_failure.send(sender=Task(), exception=ValueError("boom"))
    task_failure.send(sender=deliver_webhook, exception=ValueError("loop"))
    run_due_deliveries()
    [request] = receiver.received
    assert request.verified(webhook["secret"])["data"]["task"] == "credits.refill_monthly"
