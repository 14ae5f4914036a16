"""Queue control as a REST consumer expects it: cancel many jobs at once, ``Prefer: wait`` on a
submission, and the events a generation's ``webhook_url`` asks for."""

import json

import pytest

from credits.models import LedgerEntry
from generation.models import Generation, Status
from generation.state import transition
from generation.tasks import run_generation
from tests.helpers import assert_envelope, generate
from tests.webhooks.conftest import receiver, run_due_deliveries  # noqa: F401 - the loopback receiver fixture

pytestmark = pytest.mark.django_db


def _balance(client) -> int:
    return client.get("/api/credits").json()["credits"]["remaining"]


def _submitted(client, **payload) -> dict:
    response = generate(client, width=64, height=64, **payload)
    assert response.status_code == 201, response.content
    return response.json()["generation"]


def _status(generation: dict) -> str:
    return Generation.objects.values_list("status", flat=True).get(pk=generation["id"])


def _refunds(generation: dict) -> int:
    return LedgerEntry.objects.filter(generation_id=generation["id"], kind=LedgerEntry.Kind.REFUND).count()


@pytest.fixture
def jobs(alice, bob, held_tasks):
    """Alice's jobs in each state (two waiting, one running, one completed) and a waiting job of
    Bob's; the messages wait at the broker, so no worker moves them."""
    done = _submitted(alice, prompt="a finished kite")
    run_generation(done["id"])
    waiting = [_submitted(alice, prompt="a queued kite"), _submitted(alice, prompt="another queued kite")]
    running = _submitted(alice, prompt="a running kite")
    # A worker's claim.
    assert transition(generation_id=running["id"], to=Status.PROCESSING)
    return {"done": done, "waiting": waiting, "running": running, "bobs": _submitted(bob, prompt="bob's kite")}


def test_cancel_in_queue_cancels_my_waiting_jobs_and_refunds_each_once(alice, bob, jobs):
    before, bob_before = _balance(alice), _balance(bob)
    cost = jobs["waiting"][0]["credits_used"]
    assert cost > 0

    response = alice.post("/api/generate/cancel", {"status": "in_queue"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert body["cancelled"] == 2
    assert body["generation_ids"] == [generation["id"] for generation in jobs["waiting"]]
    assert body["credits_refunded"] == 2 * cost
    assert body["credits_remaining"] == before + 2 * cost == _balance(alice)
    assert [_status(generation) for generation in jobs["waiting"]] == [Status.CANCELLED, Status.CANCELLED]
    assert _status(jobs["running"]) == Status.PROCESSING
    assert _status(jobs["done"]) == Status.COMPLETED
    assert _status(jobs["bobs"]) == Status.IN_QUEUE
    assert _balance(bob) == bob_before

    again = alice.post("/api/generate/cancel", {"status": "in_queue"}, format="json").json()
    assert (again["cancelled"], again["generation_ids"], again["credits_refunded"]) == (0, [], 0)
    assert _balance(alice) == before + 2 * cost
    assert [_refunds(generation) for generation in jobs["waiting"]] == [1, 1]


def test_cancel_all_cancels_my_waiting_and_running_jobs(alice, bob, jobs):
    before, bob_before = _balance(alice), _balance(bob)
    unfinished = [*jobs["waiting"], jobs["running"]]

    body = alice.post("/api/generate/cancel", {"all": True}, format="json").json()

    assert body["cancelled"] == 3
    assert sorted(body["generation_ids"]) == sorted(generation["id"] for generation in unfinished)
    refunded = sum(generation["credits_used"] for generation in unfinished)
    assert body["credits_refunded"] == refunded
    assert body["credits_remaining"] == before + refunded == _balance(alice)
    assert {_status(generation) for generation in unfinished} == {Status.CANCELLED}
    assert [_refunds(generation) for generation in unfinished] == [1, 1, 1]
    assert _status(jobs["done"]) == Status.COMPLETED
    assert _refunds(jobs["done"]) == 0
    assert _status(jobs["bobs"]) == Status.IN_QUEUE
    assert _balance(bob) == bob_before
    # Each one is ended: a single cancel of it now is a conflict, and refunds nothing more.
    assert_envelope(alice.delete(f"/api/generate/{jobs['running']['id']}"), 409)
    assert _balance(alice) == before + refunded


@pytest.mark.parametrize(
    "body",
    [{}, {"status": "processing"}, {"status": "nonsense"}, {"all": False}, {"status": "in_queue", "all": True}],
)
def test_a_cancel_that_says_neither_or_both_or_an_unknown_status_is_refused(alice, jobs, body):
    before = _balance(alice)
    assert_envelope(alice.post("/api/generate/cancel", body, format="json"), 400, "validation_error")
    assert _balance(alice) == before
    assert {_status(generation) for generation in jobs["waiting"]} == {Status.IN_QUEUE}


def test_cancel_is_its_own_route_beside_a_generations_own(alice, anon):
    assert_envelope(anon.post("/api/generate/cancel", {"all": True}, format="json"), 401)
    assert_envelope(alice.get("/api/generate/cancel"), 405)


@pytest.mark.django_db(transaction=True)
def test_prefer_wait_answers_201_with_the_results_of_a_job_that_finishes(alice):
    # Committed for real: the run starts on commit, inside the request, as in the embedded mode.
    response = alice.post(
        "/api/generate",
        {"model": "local", "prompt": "a kite", "width": 64, "height": 64},
        format="json",
        headers={"Prefer": "wait=5"},
    )
    assert response.status_code == 201, response.content
    assert response["Preference-Applied"] == "wait=5"
    body = response.json()
    assert body["generation"]["status"] == Status.COMPLETED
    assert len(body["results"]) == 1


@pytest.mark.parametrize(("prefer", "applied"), [("wait=30", "wait=0.2"), ("respond-async, wait", "wait=0.2")])
def test_prefer_wait_answers_202_when_the_job_outlasts_the_bound(alice, held_tasks, settings, prefer, applied):
    # No worker takes the job: the wait ends at the bound, cut to the setting.
    settings.ATELIER_SYNC_WAIT_MAX_SECONDS = 0.2
    response = alice.post(
        "/api/generate", {"model": "local", "prompt": "a kite"}, format="json", headers={"Prefer": prefer}
    )
    assert response.status_code == 202, response.content
    assert response["Preference-Applied"] == applied
    assert response.json()["generation"]["status"] == Status.IN_QUEUE
    assert "results" not in response.json()


def test_a_malformed_prefer_wait_is_ignored(alice, held_tasks):
    response = alice.post(
        "/api/generate", {"model": "local", "prompt": "a kite"}, format="json", headers={"Prefer": "wait=abc"}
    )
    assert response.status_code == 201, response.content
    assert "Preference-Applied" not in response
    assert response.json()["generation"]["status"] == Status.IN_QUEUE


def test_an_unknown_webhook_event_is_refused_before_anything_is_charged(alice):
    before = _balance(alice)
    response = generate(alice, webhook_events_filter=["start", "output"])
    assert "webhook_events_filter" in assert_envelope(response, 400, "validation_error")["details"]
    assert _balance(alice) == before
    assert not Generation.objects.exists()


def test_the_webhook_events_filter_is_kept_with_completed_always_in_it(alice, held_tasks):
    assert _submitted(alice)["webhook_events_filter"] is None
    assert _submitted(alice, webhook_events_filter=["logs", "start"])["webhook_events_filter"] == [
        "start",
        "logs",
        "completed",
    ]
    assert _submitted(alice, webhook_events_filter=[])["webhook_events_filter"] == ["completed"]


def test_a_webhook_url_that_filters_out_every_other_event_still_gets_completed(alice, receiver):  # noqa: F811
    generation = _submitted(alice, webhook_url=receiver.url("/mine"), webhook_events_filter=[])
    run_generation(generation["id"])
    run_due_deliveries()
    [request] = receiver.received
    assert request.path == "/mine"
    payload = json.loads(request.body)
    assert payload["type"] == "image.generated"
    assert payload["data"]["generation_id"] == generation["id"]
