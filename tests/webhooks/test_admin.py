"""Webhook endpoints in the Django admin: add (secret generated), test event, rotate, redeliver."""

import pytest
from django.urls import reverse

from tests.helpers import signed_in
from tests.webhooks.conftest import run_due_deliveries
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def _add(browser, url: str, **extra):
    return browser.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {
            "url": url,
            "description": "ops",
            "events": ["image.generated"],
            "secret": "",
            "is_active": "on",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
            **extra,
        },
    )


def test_staff_add_an_endpoint_with_a_generated_secret_and_send_it_a_test(staff, receiver):
    browser = signed_in(staff.user)
    response = _add(browser, receiver.url())
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_") and endpoint.events == ["image.generated"]
    assert endpoint.created_by == staff.user
    changelist = reverse("admin:webhooks_webhookendpoint_changelist")
    browser.post(changelist, {"action": "send_test_event", "_selected_action": [str(endpoint.pk)]})
    run_due_deliveries()
    assert receiver.received[0].verified(endpoint.secret)["type"] == "webhook.test"
    page = browser.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert page.status_code == 200 and "succeeded" in page.content.decode()


def test_a_private_url_is_refused_in_the_admin_form(staff):
    response = _add(signed_in(staff.user), "http://10.1.2.3/hooks")
    assert response.status_code == 200
    assert "not public" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotate_and_redeliver_actions(staff, receiver):
    browser = signed_in(staff.user)
    _add(browser, receiver.url())
    endpoint = WebhookEndpoint.objects.get()
    old = endpoint.secret
    browser.post(
        reverse("admin:webhooks_webhookendpoint_changelist"),
        {"action": "rotate_secret", "_selected_action": [str(endpoint.pk)]},
    )
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    browser.post(
        reverse("admin:webhooks_webhookendpoint_changelist"),
        {"action": "send_test_event", "_selected_action": [str(endpoint.pk)]},
    )
    run_due_deliveries()
    delivery = WebhookDelivery.objects.get()
    browser.post(
        reverse("admin:webhooks_webhookdelivery_changelist"),
        {"action": "redeliver", "_selected_action": [str(delivery.pk)]},
    )
    run_due_deliveries()
    assert len(receiver.received) == 2
    for request in receiver.received:
        request.verified(old)
        request.verified(endpoint.secret)
    page = browser.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200 and "webhook.test" in page.content.decode()
