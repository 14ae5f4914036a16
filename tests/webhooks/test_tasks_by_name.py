"""The admin's "Send a test event" and ``POST /admin/api/webhooks/{id}/test`` reach the endpoint
through a real Celery worker within seconds: the delivery is sent by task name as its message,
not left for the periodic sweep."""

import pytest
from django.urls import reverse

from tests.helpers import signed_in, wait_until
from tests.webhooks.conftest import create_endpoint
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(tmp_path):
    """A worker on the default queue; the messages go through kombu's memory transport (the
    receiver answers from other threads, tests/worker.py says why)."""
    from config.celery import app
    from tests.worker import FilesystemBroker

    with FilesystemBroker(tmp_path / "broker", transport="memory") as broker:
        # The project's queues and routes (config/celery.py sets them on its app, not in settings).
        broker.app.conf.update(
            task_default_queue=app.conf.task_default_queue,
            task_queues=app.conf.task_queues,
            task_routes=app.conf.task_routes,
        )
        broker.start_worker(queues=["default"])
        yield broker


def _received(receiver, count: int = 1):
    # A few seconds: the sweep (every 15 s) is not what delivers it.
    return wait_until(lambda: len(receiver.received) >= count, timeout=5)


def test_the_admin_button_sends_a_test_event_through_the_worker(staff, receiver, worker):
    endpoint = WebhookEndpoint.objects.get(pk=create_endpoint(staff, receiver.url())["id"])
    browser = signed_in(staff.user)
    page = browser.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    button = reverse("admin:webhooks_webhookendpoint_send_test", args=[endpoint.pk])
    assert page.status_code == 200 and f'action="{button}"' in page.content.decode()

    response = browser.post(button, follow=True)

    assert response.status_code == 200
    assert "Test event sent to" in response.content.decode()
    _received(receiver)
    assert receiver.received[0].verified(endpoint.secret)["type"] == "webhook.test"
    assert wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded").exists(), timeout=5)
    assert worker.finished.count("webhooks.deliver") >= 1


def test_the_admin_action_sends_a_test_event_through_the_worker(staff, receiver, worker):
    endpoint = WebhookEndpoint.objects.get(pk=create_endpoint(staff, receiver.url())["id"])
    browser = signed_in(staff.user)

    browser.post(
        reverse("admin:webhooks_webhookendpoint_changelist"),
        {"action": "send_test_event", "_selected_action": [str(endpoint.pk)]},
    )

    _received(receiver)
    assert receiver.received[0].verified(endpoint.secret)["type"] == "webhook.test"


def test_the_admin_api_sends_a_test_event_through_the_worker(staff, receiver, worker):
    webhook = create_endpoint(staff, receiver.url())

    response = staff.post(f"/admin/api/webhooks/{webhook['id']}/test")

    assert response.status_code == 202, response.content
    _received(receiver)
    assert receiver.received[0].verified(webhook["secret"])["type"] == "webhook.test"


def test_the_button_takes_only_a_post(staff, receiver):
    endpoint = WebhookEndpoint.objects.get(pk=create_endpoint(staff, receiver.url())["id"])
    url = reverse("admin:webhooks_webhookendpoint_send_test", args=[endpoint.pk])
    assert signed_in(staff.user).get(url).status_code == 405
    assert not WebhookDelivery.objects.exists()
