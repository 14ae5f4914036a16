"""Seed 004's admin API through HTTP: staff see the figures of the data made here; users get 403."""

from datetime import timedelta

import pytest
from django.utils import timezone

from generation.tasks import run_generation
from ops.provider_health import provider_call_record
from tests.helpers import assert_envelope, generate

pytestmark = pytest.mark.django_db


def remaining(client) -> int:
    return client.get("/api/credits").json()["credits"]["remaining"]


def generated(client, **payload) -> int:
    """Generates through the API and has the run task make it; the credits it cost."""
    before = remaining(client)
    response = generate(client, **payload)
    assert response.status_code == 201, response.content
    generation_id = response.json()["generation"]["id"]
    run_generation(generation_id)  # the worker's task; nothing to do if it already ran
    assert client.get(f"/api/generate/{generation_id}").json()["generation"]["status"] == "completed"
    return before - remaining(client)


ADMIN_ENDPOINTS = ["/admin/api/status", "/admin/api/users", "/admin/api/metrics", "/admin/api/webhooks"]


@pytest.fixture(autouse=True)
def _no_status_cache(settings):
    settings.ATELIER_ADMIN_STATUS_CACHE_SECONDS = 0


@pytest.mark.parametrize("path", ADMIN_ENDPOINTS)
def test_a_user_who_is_not_staff_gets_403_in_the_envelope(alice, path):
    assert_envelope(alice.get(path), 403, "permission_denied")


@pytest.mark.parametrize("path", ADMIN_ENDPOINTS)
def test_an_anonymous_client_gets_401_in_the_envelope(anon, path):
    assert_envelope(anon.get(path), 401)


@pytest.mark.parametrize("path", ADMIN_ENDPOINTS)
def test_staff_get_200(staff, path):
    response = staff.get(path)
    assert response.status_code == 200, response.content
    assert response.json()["success"] is True


def test_status_has_seed_004_sections_with_counts_of_the_data(staff, alice, settings):
    settings.ATELIER_ENVIRONMENT = "staging"
    generated(alice, num_images=2)
    body = staff.get("/admin/api/status").json()
    assert body["system"]["status"] == "healthy"
    assert body["system"]["version"]
    assert body["system"]["environment"] == "staging"
    assert ":" in body["system"]["uptime"]
    database = body["database"]
    assert database["status"] == "connected"
    assert database["total_users"] == 2  # staff and alice
    assert database["total_images"] == 2
    assert database["storage_used_bytes"] > 0
    assert database["storage_used"].endswith(("B", "KB", "MB"))
    providers = {row["name"]: row for row in body["ai_providers"]}
    # The local provider's call was measured by the worker: one call, no failure.
    local = providers["local"]
    assert local["status"] == "active"
    assert local["measured"]["calls"] == 1
    assert local["success_rate"] == "100.0%"
    assert local["response_time"].endswith("s")
    assert providers["fal"]["status"] == "unavailable"  # no FAL_KEY here
    scheduler = body["scheduler"]
    assert scheduler["status"] == "in_process"
    assert scheduler["active_jobs"] == 0
    assert scheduler["next_credit_reset"].endswith("T00:00:00Z")
    queues = {queue["queue"]: queue for queue in scheduler["queues"]}
    assert queues["generation.local"]["depth"] == 0


def test_status_reports_measured_latency_percentile_and_success_rate(staff, settings):
    settings.OPENAI_API_KEY = "sk-test"
    now = timezone.now()
    for ms in (200, 200, 200, 3000):
        provider_call_record(provider="openai", duration_ms=ms, ok=True, at=now)
    provider_call_record(provider="openai", duration_ms=40000, ok=False, at=now - timedelta(minutes=1))
    # Outside the window: not counted.
    provider_call_record(provider="openai", duration_ms=100, ok=False, at=now - timedelta(hours=3))
    openai = next(row for row in staff.get("/admin/api/status").json()["ai_providers"] if row["name"] == "openai")
    assert openai["measured"]["calls"] == 5
    assert openai["measured"]["failures"] == 1
    assert openai["success_rate"] == "80.0%"
    # Three of five calls took ≤ 250 ms: the median lies in that bucket.
    assert 100 < openai["measured"]["p50_ms"] <= 250
    assert openai["measured"]["p95_ms"] > 30000
    assert openai["status"] == "degraded"  # 5 calls, under 90 % success


def test_status_shows_queue_depth_and_oldest_wait(staff, alice):
    from catalog.models import AIModel
    from generation.models import Generation

    model = AIModel.objects.get(pk="local/procedural")
    queued_at = timezone.now() - timedelta(minutes=5)
    for _ in range(3):
        Generation.objects.create(
            user=alice.user, model=model, provider="local", status="in_queue", width=64, height=64, queued_at=queued_at
        )
    queues = {q["queue"]: q for q in staff.get("/admin/api/status").json()["scheduler"]["queues"]}
    assert queues["generation.local"]["depth"] == 3
    assert 290 <= queues["generation.local"]["oldest_job_age_seconds"] <= 400


def test_users_lists_each_user_with_plan_credits_and_figures(staff, alice, bob):
    cost = generated(alice, num_images=2)
    body = staff.get("/admin/api/users").json()
    assert body["pagination"] == {"page": 1, "limit": 50, "total": 3, "pages": 1, "has_next": False, "has_prev": False}
    rows = {row["email"]: row for row in body["users"]}
    row = rows["alice@example.com"]
    assert set(row) >= {
        "id",
        "username",
        "email",
        "role",
        "status",
        "created_at",
        "last_login",
        "subscription",
        "total_images",
        "total_credits_used",
    }
    assert (row["id"], row["role"], row["status"]) == (alice.user.pk, "user", "active")
    assert row["total_images"] == 2
    assert row["total_credits_used"] == cost > 0
    assert row["subscription"]["credits_remaining"] == alice.get("/api/credits").json()["credits"]["remaining"]
    assert row["subscription"]["plan"]
    assert rows["bob@example.com"]["total_images"] == 0
    assert rows["staff@example.com"]["role"] == "admin"


def test_users_filter_by_role_status_and_search_and_paginate(staff, alice, bob):
    bob.user.is_active = False
    bob.user.save()

    def emails(query):
        response = staff.get(f"/admin/api/users?{query}")
        assert response.status_code == 200, response.content
        return sorted(row["email"] for row in response.json()["users"])

    assert emails("role=admin") == ["staff@example.com"]
    assert emails("role=user") == ["alice@example.com", "bob@example.com"]
    assert emails("status=inactive") == ["bob@example.com"]
    assert emails("status=active&role=user") == ["alice@example.com"]
    assert emails("search=ALI") == ["alice@example.com"]
    page = staff.get("/admin/api/users?limit=2&page=2").json()
    assert page["pagination"]["pages"] == 2 and len(page["users"]) == 1


@pytest.mark.parametrize(
    "query", ["role=root", "status=gone", "limit=0", "limit=1000", "page=abc", "search=" + "x" * 300]
)
def test_users_bad_query_is_400_in_the_envelope(staff, query):
    assert_envelope(staff.get(f"/admin/api/users?{query}"), 400, "validation_error")


def test_metrics_totals_daily_stats_and_popular_models_match_the_data(staff, alice, bob):
    first = generated(alice, num_images=2, art_style="realistic")
    second = generated(bob, num_images=1)
    today = timezone.now().date()
    response = staff.get(f"/admin/api/metrics?period=week&start_date={today - timedelta(days=6)}&end_date={today}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {"start": str(today - timedelta(days=6)), "end": str(today), "days": 7}
    totals = body["totals"]
    assert totals["images_generated"] == 3
    assert totals["credits_consumed"] == first + second
    assert totals["active_users"] == 2
    assert totals["new_registrations"] == 3
    assert len(body["daily_stats"]) == 7
    assert body["daily_stats"][-1] == {
        "date": str(today),
        "images": 3,
        "credits": first + second,
        "users": 2,
        "generations": 2,
    }
    assert all(day["images"] == 0 for day in body["daily_stats"][:-1])
    assert body["popular_models"] == [{"model": "local/procedural", "usage": 100.0, "images": 3}]
    assert body["popular_styles"][0]["style"] == "realistic"
    assert body["popular_styles"][0]["percentage"] == 100.0


def test_metrics_refunds_are_not_counted_as_consumed(staff, alice):
    from credits.services import credits_refund_generation
    from generation.models import Generation

    first = generated(alice, num_images=1)
    generated(alice, num_images=1)
    refunded = Generation.objects.filter(user=alice.user).order_by("created_at").last()
    credits_refund_generation(generation=refunded, reason="Refund: support")
    totals = staff.get("/admin/api/metrics?period=day").json()["totals"]
    assert totals["credits_consumed"] == first
    users = {row["email"]: row for row in staff.get("/admin/api/users").json()["users"]}
    assert users["alice@example.com"]["total_credits_used"] == first


def test_metrics_default_period_is_the_last_30_days(staff):
    body = staff.get("/admin/api/metrics").json()
    assert body["period"]["days"] == 30
    assert body["period"]["end"] == str(timezone.now().date())


@pytest.mark.parametrize(
    "query",
    [
        "period=fortnight",
        "start_date=2025-13-01",
        "start_date=2025-06-18&end_date=2025-06-01",
        "start_date=2020-01-01&end_date=2025-01-01",
        "end_date=0001-01-01",
        "start_date=9999-12-31",
        "start_date=1999-12-31&period=day",
    ],
)
def test_metrics_bad_query_is_400_in_the_envelope(staff, query):
    assert_envelope(staff.get(f"/admin/api/metrics?{query}"), 400, "validation_error")


def test_metrics_of_past_days_come_from_stored_rollups_and_today_is_live(staff, alice, bob):
    from credits.models import LedgerEntry
    from gallery.models import Asset
    from generation.models import Generation
    from ops.models import UsageDay

    old_cost = generated(alice, num_images=2, art_style="modern")
    ten_days_ago = timezone.now() - timedelta(days=10)
    moved = Generation.objects.filter(user=alice.user)
    Asset.objects.filter(generation__in=moved).update(created_at=ten_days_ago)
    LedgerEntry.objects.filter(generation__in=moved).update(created_at=ten_days_ago)
    moved.update(created_at=ten_days_ago)

    today_cost = generated(bob, num_images=1)
    body = staff.get("/admin/api/metrics?period=month").json()
    by_date = {row["date"]: row for row in body["daily_stats"]}
    then = by_date[str(ten_days_ago.date())]
    assert (then["generations"], then["images"], then["credits"], then["users"]) == (1, 2, old_cost, 1)
    now = by_date[str(timezone.now().date())]
    assert (now["generations"], now["images"], now["credits"], now["users"]) == (1, 1, today_cost, 1)
    assert body["totals"]["active_users"] == 2
    assert body["popular_styles"] == [{"style": "modern", "percentage": 100.0, "images": 2}]
    # Settled days were stored once; asking again reads them back with the same figures.
    assert UsageDay.objects.filter(day=ten_days_ago.date()).exists()
    assert not UsageDay.objects.filter(day=timezone.now().date()).exists()
    assert staff.get("/admin/api/metrics?period=month").json()["daily_stats"] == body["daily_stats"]
