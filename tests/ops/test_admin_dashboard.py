"""The admin index is Atelier's dashboard: branded, with its charts and distinct section names."""

import re

import pytest

from tests.helpers import generate, signed_in

pytestmark = pytest.mark.django_db

CHARTS = ["generations", "credits", "users", "models", "latency", "success", "queues", "queue-history"]


def test_the_admin_index_shows_the_dashboard_charts(staff, alice):
    from generation.tasks import run_generation

    response = generate(alice, num_images=2)
    run_generation(response.json()["generation"]["id"])
    page = signed_in(staff.user).get("/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Atelier administration" in html
    assert re.findall(r'data-chart="([\w-]+)"', html) == CHARTS
    # The top-models chart names the model that made today's images.
    models_chart = html[html.index('data-chart="models"') :]
    assert "local/procedural" in models_chart[: models_chart.index("</svg>")]
    assert "<script" not in html[html.index('class="atelier-dashboard"') : html.index("</section>")]


def test_admin_sections_have_distinct_names(staff):
    html = signed_in(staff.user).get("/admin/").content.decode()
    names = re.findall(r'<caption>\s*<a [^>]*class="section"[^>]*>([^<]+)</a>', html)
    assert len(names) >= 5
    assert len(names) == len(set(names)), names


def test_a_user_who_is_not_staff_is_sent_to_the_admin_login(alice):
    page = signed_in(alice.user).get("/admin/")
    assert page.status_code == 302
    assert "/admin/login/" in page["Location"]


def test_the_dashboard_counts_webhook_endpoints_and_deliveries(staff):
    from webhooks.models import WebhookEndpoint

    WebhookEndpoint.objects.create(url="https://hooks.example.com/a", secret="whsec_x", is_active=False)
    html = signed_in(staff.user).get("/admin/").content.decode()
    assert "1 endpoint" in html and "(1 disabled)" in html
