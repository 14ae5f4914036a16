import pytest
import time_machine
from django.test import Client as BrowserClient
from django.utils import timezone

from accounts.services import user_create
from catalog.models import AIModel
from tests.helpers import LOCAL_MODEL, assert_envelope, generate

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.RATELIMIT_ENABLE = True
    settings.ATELIER_RATE_LIMITS = {
        **settings.ATELIER_RATE_LIMITS,
        "general": "3/m",
        "generation": "2/m",
        "gallery": "4/m",
        "auth": "5/15m",
    }
    return settings.ATELIER_RATE_LIMITS


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def _exhaust(call, allowed: int):
    for _ in range(allowed):
        assert call().status_code < 400
    refused = call()
    body = assert_envelope(refused, 429, "rate_limited")
    assert 1 <= int(refused["Retry-After"]) <= 60
    return body


@pytest.mark.parametrize(
    "group, allowed, call",
    [
        ("general", 3, lambda c: c.get("/api/credits")),
        ("generation", 2, lambda c: generate(c, width=64, height=64)),
        ("gallery", 4, lambda c: c.get("/api/gallery")),
    ],
)
def test_each_group_answers_429_at_its_threshold_and_recovers(alice, limits, clock, group, allowed, call):
    _exhaust(lambda: call(alice), allowed)
    clock.shift(61)
    assert call(alice).status_code < 400


def test_limits_are_per_account(alice, bob, limits, clock):
    _exhaust(lambda: alice.get("/api/credits"), 3)
    assert bob.get("/api/credits").status_code == 200


def test_per_model_limit_from_the_catalog(alice, limits, clock, settings):
    settings.ATELIER_RATE_LIMITS["generation"] = "100/m"
    AIModel.objects.filter(pk=LOCAL_MODEL).update(rate_limit="2/m")
    _exhaust(lambda: generate(alice, width=64, height=64), 2)


RIGHT = {"email": "carol@example.com", "password": "correct horse battery"}


def test_failed_logins_lock_out_only_the_attackers_address(limits, clock):
    user_create(email="carol@example.com", password="correct horse battery")
    attacker = BrowserClient(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        response = attacker.post(
            "/auth/login", {"email": "carol@example.com", "password": "guess"}, content_type="application/json"
        )
        assert response.status_code == 401
    locked = attacker.post(
        "/auth/login",
        {"email": "carol@example.com", "password": "correct horse battery"},
        content_type="application/json",
    )
    assert_envelope(locked, 429, "rate_limited")
    assert int(locked["Retry-After"]) > 0

    real_user = BrowserClient(REMOTE_ADDR="198.51.100.7")
    welcome = real_user.post(
        "/auth/login",
        {"email": "carol@example.com", "password": "correct horse battery"},
        content_type="application/json",
    )
    assert welcome.status_code == 200

    clock.shift(15 * 60 + 1)
    assert attacker.post("/auth/login", RIGHT, content_type="application/json").status_code == 200


def test_daily_generation_quota_resets_at_the_day_boundary(alice, settings):
    settings.ATELIER_QUOTAS_ENABLED = True
    settings.ATELIER_DEFAULT_DAILY_GENERATIONS = 2
    with time_machine.travel("2026-03-01T22:00:00Z", tick=False) as clock:
        assert generate(alice, width=64, height=64).status_code == 201
        assert generate(alice, width=64, height=64).status_code == 201
        refused = generate(alice, width=64, height=64)
        body = assert_envelope(refused, 429, "quota_exceeded")
        assert body["resets_at"] == "2026-03-02T00:00:00Z"
        assert int(refused["Retry-After"]) == 2 * 3600 + 1
        clock.move_to("2026-03-02T00:00:01Z")
        assert generate(alice, width=64, height=64).status_code == 201


def test_hourly_request_quota(alice, settings, limits, clock):
    settings.ATELIER_QUOTAS_ENABLED = True
    settings.ATELIER_DEFAULT_HOURLY_REQUESTS = 2
    settings.ATELIER_RATE_LIMITS["general"] = "100/m"
    alice.get("/api/credits")
    alice.get("/api/credits")
    assert_envelope(alice.get("/api/credits"), 429, "quota_exceeded")
    clock.shift(3601)
    assert alice.get("/api/credits").status_code == 200


def test_admin_group_limits_the_admin_api(staff, alice, limits, clock, settings):
    settings.ATELIER_RATE_LIMITS["admin"] = "2/m"
    url = f"/admin/api/users/{alice.user.pk}/credits"
    payload = {"action": "add", "amount": 1, "reason": "goodwill"}
    _exhaust(lambda: staff.post(url, payload, format="json"), 2)
    clock.shift(61)
    assert staff.post(url, payload, format="json").status_code == 200


def test_health_is_never_rate_limited(anon, limits):
    assert all(anon.get("/health").status_code == 200 for _ in range(5))
