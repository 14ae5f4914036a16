"""An operator signs in to the admin and sees the dashboard's charts drawn in Chromium."""

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create, user_create
from generation.tasks import run_generation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase 42"
CHARTS = ["generations", "credits", "users", "models", "latency", "success", "queues", "queue-history"]


def _generate_as_a_user() -> None:
    user = user_create(email="dora@example.com", password=PASSWORD)
    _, secret = api_key_create(user=user, name="e2e")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.post(
        "/api/generate", {"model": "local/procedural", "prompt": "a lighthouse", "num_images": 2}, format="json"
    )
    assert response.status_code == 201, response.content
    run_generation(response.json()["generation"]["id"])  # nothing to do if it already ran


def test_the_admin_dashboard_renders_its_charts(live_server, new_page, screenshot):
    user_create(email="ops@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    _generate_as_a_user()
    page = new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("Email").fill("ops@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")

    assert page.locator("#site-name").inner_text() == "Atelier administration"
    charts = page.locator("svg.atelier-chart")
    assert [charts.nth(i).get_attribute("data-chart") for i in range(charts.count())] == CHARTS
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 200 and box["height"] > 20, CHARTS[i]
    # Today's generation is a visible bar; the top-models chart names its model.
    bars = page.locator('svg[data-chart="generations"] rect.bar')
    assert bars.count() == 30
    assert bars.last.bounding_box()["height"] > 10
    assert "local/procedural" in page.locator('svg[data-chart="models"]').inner_html()
    assert page.locator('svg[data-chart="latency"] rect.bar').count() >= 1
    assert page.errors == []
    screenshot(page, "admin-dashboard", full_page=True)
