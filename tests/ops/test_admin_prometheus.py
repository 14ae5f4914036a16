"""``/metrics`` in Prometheus' format for staff or the token holder; refused to anyone else."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ops.provider_health import provider_call_record
from tests.helpers import assert_envelope, signed_in

pytestmark = pytest.mark.django_db


def _samples(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_staff_read_the_figures(staff, alice, settings):
    settings.ATELIER_ADMIN_STATUS_CACHE_SECONDS = 0
    for ms in (100, 300, 300):
        provider_call_record(provider="local", duration_ms=ms, ok=True)
    provider_call_record(provider="local", duration_ms=5000, ok=False)
    samples = _samples(signed_in(staff.user).get("/metrics"))
    assert samples[("atelier_users", ())] == 2
    assert samples[("atelier_provider_calls_window", (("provider", "local"),))] == 4
    assert samples[("atelier_provider_failures_window", (("provider", "local"),))] == 1
    p50 = samples[("atelier_provider_latency_seconds", (("provider", "local"), ("quantile", "0.5")))]
    assert 0.1 < p50 <= 0.5
    assert samples[("atelier_queue_depth", (("queue", "generation.local"),))] == 0
    assert samples[("atelier_workers_online", ())] == 1


def test_the_token_opens_it_without_a_session(anon, settings):
    settings.ATELIER_METRICS_TOKEN = "scrape-token-123"
    assert ("atelier_users", ()) in _samples(anon.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-123"))
    assert_envelope(anon.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong"), 401)


def test_users_and_strangers_are_refused(alice, anon):
    assert_envelope(signed_in(alice.user).get("/metrics"), 403, "permission_denied")
    assert_envelope(anon.get("/metrics"), 401)
