"""Every route that makes images goes through one submission: the same rate limits, quota,
charge, collection and Idempotency-Key, whichever seed's shape the request has."""

import pytest
import time_machine
from django.utils import timezone

from catalog.models import AIModel
from credits.models import LedgerEntry
from generation.models import Generation, Status
from generation.tasks import run_generation
from tests.helpers import LOCAL_MODEL, assert_envelope, credits_remaining

# Routes that wait need the creating transaction to commit.
pytestmark = pytest.mark.django_db(transaction=True)

# One submission per route, each in its seed's shape.
ROUTES = {
    "canonical": lambda c: c.post("/api/generate", {"model": LOCAL_MODEL, "prompt": "a", "width": 64, "height": 64}),
    "seed 000": lambda c: c.post(
        "/api/image/generate", {"model": LOCAL_MODEL, "prompt": "a", "width": 64, "height": 64}
    ),
    "seed 002": lambda c: c.post(
        "/api/images/generate", {"model": LOCAL_MODEL, "prompt": "a", "width": 64, "height": 64}
    ),
    "seed 004": lambda c: c.post("/generate/image", {"model": LOCAL_MODEL, "prompt": "a", "width": 64, "height": 64}),
}


@pytest.fixture
def limits(settings):
    settings.RATELIMIT_ENABLE = True
    settings.ATELIER_RATE_LIMITS = {**settings.ATELIER_RATE_LIMITS, "general": "1000/m", "generation": "1000/m"}
    with time_machine.travel(timezone.now(), tick=False):
        yield settings.ATELIER_RATE_LIMITS


def _json(client):
    client.default_format = "json"
    return client


@pytest.mark.parametrize("refused_on", list(ROUTES))
def test_a_models_rate_limit_counts_the_submissions_of_every_route(alice, limits, refused_on):
    AIModel.objects.filter(pk=LOCAL_MODEL).update(rate_limit="2/m")
    client = _json(alice)
    others = [name for name in ROUTES if name != refused_on]
    assert ROUTES[others[0]](client).status_code < 400
    assert ROUTES[others[1]](client).status_code < 400
    before = credits_remaining(alice)
    refused = ROUTES[refused_on](client)
    assert_envelope(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) >= 1
    assert credits_remaining(alice) == before
    assert Generation.objects.filter(user=alice.user).count() == 2


def test_the_generation_group_limit_counts_every_route(alice, limits):
    limits["generation"] = "3/m"
    client = _json(alice)
    for name in ("canonical", "seed 000", "seed 004"):
        assert ROUTES[name](client).status_code < 400
    assert_envelope(ROUTES["seed 002"](client), 429, "rate_limited")


@pytest.mark.parametrize("route", list(ROUTES))
def test_the_daily_quota_holds_on_every_route_and_charges_nothing(alice, settings, route):
    settings.ATELIER_QUOTAS_ENABLED = True
    settings.ATELIER_DEFAULT_DAILY_GENERATIONS = 1
    client = _json(alice)
    assert ROUTES["canonical"](client).status_code == 201
    before = credits_remaining(alice)
    assert_envelope(ROUTES[route](client), 429, "quota_exceeded")
    assert credits_remaining(alice) == before


def test_an_idempotency_key_on_a_seed_route_makes_one_generation(alice):
    headers = {"Idempotency-Key": "seed-004-order"}
    body = {"model": LOCAL_MODEL, "prompt": "a kite", "width": 64, "height": 64}
    first = alice.post("/generate/image", body, format="json", headers=headers)
    again = alice.post("/generate/image", body, format="json", headers=headers)
    assert first.status_code == again.status_code == 200
    assert [image["id"] for image in again.json()["images"]] == [image["id"] for image in first.json()["images"]]
    assert LedgerEntry.objects.filter(user=alice.user, kind="debit").count() == 1
    other = alice.post("/generate/image", {**body, "prompt": "a boat"}, format="json", headers=headers)
    assert_envelope(other, 409, "idempotency_conflict")


def test_post_images_join_the_post_even_when_the_wait_ends_first(alice, held_tasks, settings):
    settings.ATELIER_SYNC_TIMEOUT_SECONDS = 0
    post = alice.post("/api/collections", {"name": "Harbour story"}, format="json").json()["collection"]
    response = alice.post(
        f"/api/v1/posts/{post['id']}/generate_images", {"prompt": "a harbour", "count": 2}, format="json"
    )
    assert response.status_code == 202
    generation_id = response.json()["generation_id"]
    assert Generation.objects.get(pk=generation_id).status == Status.IN_QUEUE

    run_generation(generation_id)

    in_post = alice.get(f"/api/gallery?collection={post['id']}").json()
    assert len(in_post["images"]) == 2
