"""Every call a generation makes to its provider reaches the operator's provider health, through
the signal generation sends (generation never imports the console)."""

import pytest

from generation.providers.local import LocalProvider
from tests.helpers import generate, generate_done

pytestmark = pytest.mark.django_db


def _local(staff) -> dict:
    rows = staff.get("/admin/api/status").json()["ai_providers"]
    return next(row for row in rows if row["name"] == "local")["measured"]


def test_a_generations_provider_call_is_counted_in_the_status(staff, alice):
    before = _local(staff)["calls"]
    assert generate_done(alice, width=64, height=64)["status"] == "completed"
    measured = _local(staff)
    assert measured["calls"] == before + 1
    assert measured["failures"] == 0


def test_a_crashed_provider_call_is_counted_as_a_failure(staff, alice, monkeypatch):
    def explode(self, job, *, reporter):
        raise RuntimeError("GPU caught fire")

    monkeypatch.setattr(LocalProvider, "submit", explode)
    before = _local(staff)
    generation_id = generate(alice, width=64, height=64).json()["generation"]["id"]
    assert alice.get(f"/api/generate/{generation_id}").json()["generation"]["status"] == "failed"
    measured = _local(staff)
    assert (measured["calls"], measured["failures"]) == (before["calls"] + 1, before["failures"] + 1)
