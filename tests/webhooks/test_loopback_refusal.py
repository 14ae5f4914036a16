"""A webhook URL on loopback is refused with the name of the setting that lets a host through."""

import pytest

from tests.helpers import LOCAL_MODEL, assert_envelope

pytestmark = pytest.mark.django_db

SETTING = "ATELIER_URL_FETCH_ALLOWED_HOSTS"


def test_an_endpoint_on_loopback_is_refused_naming_the_setting(staff):
    body = assert_envelope(
        staff.post("/admin/api/webhooks", {"url": "http://127.0.0.1:8123/hooks"}, format="json"), 400
    )
    [message] = body["details"]["url"]
    assert "is a loopback address (127.0.0.1)" in message and SETTING in message


def test_a_generations_webhook_url_on_loopback_is_refused_naming_the_setting(alice):
    response = alice.post(
        "/api/generate",
        {"model": LOCAL_MODEL, "prompt": "a lighthouse", "webhook_url": "http://localhost:8123/done"},
        format="json",
    )
    body = assert_envelope(response, 400)
    assert SETTING in str(body["details"]["webhook_url"])


def test_the_setting_lets_the_host_through(staff, settings):
    settings.ATELIER_URL_FETCH_ALLOWED_HOSTS = ["127.0.0.1:8123"]
    response = staff.post("/admin/api/webhooks", {"url": "http://127.0.0.1:8123/hooks"}, format="json")
    assert response.status_code == 201, response.content
