"""The catalog and plans a process keeps for a few seconds: edits show at once in the process
that made them, and elsewhere once the copy expires."""

import pytest

from catalog.models import AIModel
from catalog.selectors import catalog_cache
from credits.models import Plan
from credits.services import credits_plan_set

pytestmark = pytest.mark.django_db

LOCAL = "local/procedural"


def _cost(client) -> int:
    body = {"model": LOCAL, "prompt": "a kite", "dry_run": True}
    return client.post("/api/generate", body, format="json").json()["cost"]


def test_a_model_saved_as_the_admin_does_is_priced_at_once(settings, alice):
    settings.ATELIER_PROCESS_CACHE_SECONDS = 3600
    assert _cost(alice) == 1
    model = AIModel.objects.get(pk=LOCAL)
    model.credit_cost = 7
    model.save()
    assert _cost(alice) == 7


class Clock:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_change_made_by_another_process_shows_once_the_copy_expires(settings, alice, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(catalog_cache, "clock", clock)
    settings.ATELIER_PROCESS_CACHE_SECONDS = 30
    assert _cost(alice) == 1
    # A queryset update sends no signal, as a change made in another process would not reach this one.
    AIModel.objects.filter(pk=LOCAL).update(credit_cost=4)
    clock.now += 29
    assert _cost(alice) == 1
    clock.now += 2
    assert _cost(alice) == 4


def test_a_new_plan_applies_to_the_quota_at_once(settings, alice):
    settings.ATELIER_PROCESS_CACHE_SECONDS = 3600
    settings.ATELIER_QUOTAS_ENABLED = True
    tight = Plan.objects.create(name="Tight", slug="tight", monthly_credits=10, daily_generation_quota=1)
    body = {"model": LOCAL, "prompt": "a kite"}
    assert alice.post("/api/generate", body, format="json").status_code == 201
    assert alice.post("/api/generate", body, format="json").status_code == 201
    credits_plan_set(user=alice.user, plan=tight)
    response = alice.post("/api/generate", body, format="json")
    assert response.status_code == 429
    assert "Daily generation quota of 1" in response.json()["error"]
