"""A generation asked for with ``webhook_url`` sends image.generated there once, signed with
its owner's secret; subscribed endpoints get the event too."""

import pytest

from generation.models import Generation
from generation.tasks import run_generation
from tests.helpers import assert_envelope, generate
from tests.webhooks.conftest import create_endpoint, run_due_deliveries

pytestmark = pytest.mark.django_db


def _generated(client, **payload) -> str:
    response = generate(client, **payload)
    assert response.status_code == 201, response.content
    generation_id = response.json()["generation"]["id"]
    run_generation(generation_id)  # the worker's task; nothing to do if it already ran
    return generation_id


def test_a_generation_with_webhook_url_delivers_image_generated_once(alice, receiver):
    secret = alice.get("/api/user/webhook-secret").json()["webhook_secret"]["secret"]
    generation_id = _generated(alice, num_images=2, webhook_url=receiver.url("/mine"))
    assert Generation.objects.get(pk=generation_id).webhook_url == receiver.url("/mine")
    run_due_deliveries()
    run_generation(generation_id)  # a second run of the task changes nothing
    run_due_deliveries()
    [request] = receiver.received
    assert request.path == "/mine"
    payload = request.verified(secret)
    assert payload["type"] == "image.generated"
    data = payload["data"]
    assert data["generation_id"] == generation_id
    assert data["user_id"] == alice.user.pk
    assert data["model"] == "local/procedural"
    assert data["prompt"] == "a lighthouse at sunset"
    images = alice.get(f"/api/generate/{generation_id}").json()["generation"]
    assert len(data["images"]) == 2
    assert data["image_id"] == data["images"][0]["id"]
    assert images["status"] == "completed"


def test_subscribed_endpoints_get_image_generated_too(alice, staff, receiver):
    endpoint = create_endpoint(staff, receiver.url("/ops"), events=["image.generated"])
    generation_id = _generated(alice)
    run_due_deliveries()
    [request] = receiver.received
    assert request.path == "/ops"
    assert request.verified(endpoint["secret"])["data"]["generation_id"] == generation_id


def test_a_private_webhook_url_is_refused_before_anything_is_charged(alice, settings):
    settings.ATELIER_URL_FETCH_ALLOWED_HOSTS = []
    before = alice.get("/api/credits").json()["credits"]["remaining"]
    response = generate(alice, webhook_url="http://127.0.0.1:9/hooks")
    assert "webhook_url" in assert_envelope(response, 400, "validation_error")["details"]
    assert alice.get("/api/credits").json()["credits"]["remaining"] == before
    assert not Generation.objects.exists()
