import pytest

from tests.webhooks.receiver import Receiver
from webhooks.models import WebhookDelivery
from webhooks.tasks import deliver_webhook


@pytest.fixture
def receiver(settings):
    # The receiver listens on loopback: the URL guard lets this one host through, as for fakes.
    settings.ATELIER_URL_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.ATELIER_WEBHOOK_RETRY_SCHEDULE = [0, 0, 0, 0]
    settings.ATELIER_WEBHOOK_RETRY_JITTER = 0
    server = Receiver()
    yield server
    server.stop()


def run_due_deliveries(rounds: int = 10) -> None:
    """What the worker does when retries fall due: the delivery task for each pending delivery."""
    for _ in range(rounds):
        pending = list(WebhookDelivery.objects.filter(status="pending").values_list("pk", flat=True))
        if not pending:
            return
        for delivery_id in pending:
            deliver_webhook(str(delivery_id))


def create_endpoint(staff, url: str, **body) -> dict:
    response = staff.post("/admin/api/webhooks", {"url": url, **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["webhook"]
