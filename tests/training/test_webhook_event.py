"""A finished training is announced to operators' endpoints as seed 004's training.completed."""

import pytest

from tests.training.factories import image_files, start, upload
from tests.webhooks.conftest import create_endpoint, run_due_deliveries
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.ATELIER_URL_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.ATELIER_WEBHOOK_RETRY_SCHEDULE = [0, 0, 0, 0]
    settings.ATELIER_WEBHOOK_RETRY_JITTER = 0
    server = Receiver()
    yield server
    server.stop()


def test_a_completed_training_sends_training_completed(alice, staff, receiver):
    webhook = create_endpoint(staff, receiver.url(), events=["training.completed"])
    job_id = start(alice, upload(alice, image_files(3)), steps=20).json()["training_id"]
    run_due_deliveries()
    payload = receiver.received[0].verified(webhook["secret"])
    assert payload["type"] == "training.completed"
    assert payload["data"]["training_id"] == job_id
    assert payload["data"]["user_id"] == alice.user.pk
    assert payload["data"]["model_url"] == f"/api/training/{job_id}/files/model.safetensors"
